// weft::select — Go's select statement.
//
//   std::size_t i = weft::select(
//       weft::on_recv(ch, [](std::optional<int> v) { ... }),  // v empty: ch closed
//       weft::on_send(out, 7, [] { ... }),
//       weft::on_recv(weft::after(100ms)),                     // handler optional
//       weft::on_default([] { ... }));                         // never blocks
//
// Blocks until a case can proceed; if several can, picks one uniformly at
// random. Cases on nil channels are never chosen. With on_default, returns at
// once when no case is ready. Returns the chosen case's position in the
// argument list; its handler runs after the select has completed (it may
// block, even select again). A send case on a closed channel that is chosen
// throws panic_error("send on closed channel"). Waiters left on the other
// channels are removed before select returns.
#pragma once

#include <cstddef>
#include <optional>
#include "weft/source_location.hpp"
#include <tuple>
#include <type_traits>
#include <utility>

#include "weft/chan.hpp"

namespace weft {

namespace detail {
struct no_handler {};

template <class T, class F>
struct recv_case {
  chan_core* c;
  F fn;
  recv_slot<T> slot;
  weft::source_location loc;
};
template <class T, class F>
struct send_case {
  chan_core* c;
  T value;
  F fn;
  weft::source_location loc;
};
template <class F>
struct default_case {
  F fn;
};

template <class C>
struct case_traits {
  static constexpr bool is_default = false;
};
template <class F>
struct case_traits<default_case<F>> {
  static constexpr bool is_default = true;
};
}  // namespace detail

template <class T>
auto on_recv(const recv_chan<T>& ch, const weft::source_location& loc = weft::source_location::current()) {
  return detail::recv_case<T, detail::no_handler>{ch.core(), {}, {}, loc};
}
template <class T, class F>
auto on_recv(const recv_chan<T>& ch, F&& fn,
             const weft::source_location& loc = weft::source_location::current()) {
  static_assert(std::is_invocable_v<std::decay_t<F>&, std::optional<T>>,
                "on_recv handler must accept std::optional<T> (empty when the channel is closed)");
  return detail::recv_case<T, std::decay_t<F>>{ch.core(), std::forward<F>(fn), {}, loc};
}
// (The chan<T> overloads read the channel straight from the handle: converting
// to a view would copy the handle, two atomic reference-count updates per case.)
template <class T>
auto on_recv(const chan<T>& ch, const weft::source_location& loc = weft::source_location::current()) {
  return detail::recv_case<T, detail::no_handler>{ch.core(), {}, {}, loc};
}
template <class T, class F>
auto on_recv(const chan<T>& ch, F&& fn, const weft::source_location& loc = weft::source_location::current()) {
  static_assert(std::is_invocable_v<std::decay_t<F>&, std::optional<T>>,
                "on_recv handler must accept std::optional<T> (empty when the channel is closed)");
  return detail::recv_case<T, std::decay_t<F>>{ch.core(), std::forward<F>(fn), {}, loc};
}

template <class T, class V>
auto on_send(const send_chan<T>& ch, V&& v, const weft::source_location& loc = weft::source_location::current()) {
  return detail::send_case<T, detail::no_handler>{ch.core(), T(std::forward<V>(v)), {}, loc};
}
template <class T, class V, class F>
auto on_send(const send_chan<T>& ch, V&& v, F&& fn,
             const weft::source_location& loc = weft::source_location::current()) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "on_send handler takes no arguments");
  return detail::send_case<T, std::decay_t<F>>{ch.core(), T(std::forward<V>(v)), std::forward<F>(fn), loc};
}
template <class T, class V>
auto on_send(const chan<T>& ch, V&& v, const weft::source_location& loc = weft::source_location::current()) {
  return detail::send_case<T, detail::no_handler>{ch.core(), T(std::forward<V>(v)), {}, loc};
}
template <class T, class V, class F>
auto on_send(const chan<T>& ch, V&& v, F&& fn, const weft::source_location& loc = weft::source_location::current()) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "on_send handler takes no arguments");
  return detail::send_case<T, std::decay_t<F>>{ch.core(), T(std::forward<V>(v)), std::forward<F>(fn), loc};
}

inline auto on_default() { return detail::default_case<detail::no_handler>{}; }
template <class F>
auto on_default(F&& fn) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "on_default handler takes no arguments");
  return detail::default_case<std::decay_t<F>>{std::forward<F>(fn)};
}

namespace detail {

template <class T, class F>
void fill(select_case& sc, recv_case<T, F>& c) {
  sc = select_case{c.c, c.slot.ptr(), false, false};
}
template <class T, class F>
void fill(select_case& sc, send_case<T, F>& c) {
  sc = select_case{c.c, &c.value, true, false};
}

template <class T, class F>
void finish(recv_case<T, F>& c, const select_case& sc) {
  if (!sc.recv_ok) {
    if constexpr (!std::is_same_v<F, no_handler>) c.fn(std::optional<T>());
    return;
  }
  if constexpr (std::is_same_v<F, no_handler>)
    c.slot.get().~T();  // received and unwanted
  else
    c.fn(c.slot.take());
}
template <class T, class F>
void finish(send_case<T, F>& c, const select_case&) {
  if constexpr (!std::is_same_v<F, no_handler>) c.fn();
}
template <class F>
void finish_default(default_case<F>& c) {
  if constexpr (!std::is_same_v<F, no_handler>) c.fn();
}

// The non-blocking form of a case: true (and its handler run) if it completed.
template <class T, class F>
bool try_case(recv_case<T, F>& c) {
  switch (chan_try_recv(c.c, c.slot.ptr())) {
    case try_recv_result::empty:
      return false;
    case try_recv_result::received:
      finish(c, select_case{c.c, nullptr, false, true});
      return true;
    case try_recv_result::closed:
      finish(c, select_case{c.c, nullptr, false, false});
      return true;
  }
  return false;
}
template <class T, class F>
bool try_case(send_case<T, F>& c) {
  if (!chan_try_send(c.c, &c.value)) return false;
  finish(c, select_case{c.c, nullptr, true, false});
  return true;
}

template <class C>
const weft::source_location* location_of(const C& c) {
  if constexpr (case_traits<C>::is_default)
    return nullptr;
  else
    return &c.loc;
}

}  // namespace detail

template <class... Cases>
std::size_t select(Cases&&... cases_in) {
  constexpr std::size_t total = sizeof...(Cases);
  constexpr std::size_t ndefault = (std::size_t{0} + ... + (detail::case_traits<std::decay_t<Cases>>::is_default ? 1 : 0));
  static_assert(ndefault <= 1, "weft::select: at most one on_default case");
  constexpr std::size_t nchan = total - ndefault;

  std::tuple<Cases&...> cases(cases_in...);
  if constexpr (total == 2 && ndefault == 1) {
    // One case and a default is a non-blocking send or receive (as Go compiles
    // it): skip the general machinery.
    constexpr std::size_t ci = detail::case_traits<std::decay_t<std::tuple_element_t<0, std::tuple<Cases...>>>>::is_default ? 1 : 0;
    auto& c = std::get<ci>(cases);
    auto& d = std::get<1 - ci>(cases);
    if (detail::try_case(c)) return ci;
    detail::finish_default(d);
    return 1 - ci;
  }
  detail::select_case scs[nchan == 0 ? 1 : nchan];
  weft::source_location where = weft::source_location::current();
  bool have_where = false;
  {
    std::size_t k = 0;
    auto add = [&](auto& c) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (!detail::case_traits<C>::is_default) {
        detail::fill(scs[k], c);
        if (!have_where) {
          where = *detail::location_of(c);
          have_where = true;
        }
        ++k;
      }
    };
    std::apply([&](auto&... c) { (add(c), ...); }, cases);
  }
  // select_run answers with the channel case's index among channel cases, or
  // nchan for the default; map it back to the argument position.
  const std::size_t chosen = detail::select_run(scs, nchan, ndefault == 1, where);
  std::size_t arg = total;
  {
    std::size_t k = 0, pos = 0;
    auto run = [&](auto& c) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (detail::case_traits<C>::is_default) {
        if (chosen == nchan) {
          arg = pos;
          detail::finish_default(c);
        }
      } else {
        if (k == chosen) {
          arg = pos;
          detail::finish(c, scs[k]);
        }
        ++k;
      }
      ++pos;
    };
    std::apply([&](auto&... c) { (run(c), ...); }, cases);
  }
  return arg;
}

}  // namespace weft
