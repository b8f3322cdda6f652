// weft::patterns internals: the two moves every pattern goroutine makes — take
// a value unless told to stop, offer a value unless told to stop — and the
// channel traits that let a pattern accept chan<T> or recv_chan<T> alike.
//
// Done takes priority. Go's `select { case <-done: case out <- v: }` picks at
// random when both are ready, so a Go stage keeps emitting for a while after
// done closes. Here each move first checks done without blocking: a goroutine
// that has seen done closed starts no new receive or send, and a consumer can
// get at most the one value that was already on offer when done closed.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "weft/chan.hpp"
#include "weft/select.hpp"
#include "weft/unit.hpp"

namespace weft::patterns {

// The book's `done <-chan interface{}`: closing it stops a pattern's goroutines.
// The nil channel (a default-constructed one) never closes; pass a context's
// done() to tie a pattern to a weft::context.
using done_chan = recv_chan<unit>;

namespace detail {

template <class C>
struct chan_traits {
  static constexpr bool receivable = false;
};
template <class T>
struct chan_traits<chan<T>> {
  static constexpr bool receivable = true;
  using value_type = T;
};
template <class T>
struct chan_traits<recv_chan<T>> {
  static constexpr bool receivable = true;
  using value_type = T;
};

// A channel one can receive from: chan<T> or recv_chan<T>.
template <class C>
concept receivable = chan_traits<std::remove_cvref_t<C>>::receivable;
template <class C>
using chan_value_t = typename chan_traits<std::remove_cvref_t<C>>::value_type;

// Is this (signal) channel closed? Never blocks; a value found on it is consumed
// (done channels carry none).
template <class T>
bool closed_now(const recv_chan<T>& c) {
  return weft::select(weft::on_recv(c), weft::on_default()) == 0;
}

// The next value of in; nullopt once done closes or in is closed and drained.
template <receivable C>
std::optional<chan_value_t<C>> recv_or_done(const done_chan& done, const C& in) {
  using T = chan_value_t<C>;
  if (closed_now(done)) return std::nullopt;
  std::optional<T> got;
  weft::select(weft::on_recv(done), weft::on_recv(in, [&](std::optional<T> v) { got = std::move(v); }));
  return got;
}

// Offer v on out; true once it is taken, false if done closed first.
// (out: a chan<T> or a send_chan<T>.)
template <class C, class V>
bool send_or_done(const done_chan& done, const C& out, V&& v) {
  if (closed_now(done)) return false;
  return weft::select(weft::on_recv(done), weft::on_send(out, std::forward<V>(v))) == 1;
}

// A unit of work: fn(done, v) if fn wants to watch done while it works (a long
// computation, a request), fn(v) otherwise.
template <class F, class T>
decltype(auto) invoke_work(F& fn, const done_chan& done, T&& v) {
  if constexpr (std::is_invocable_v<F&, const done_chan&, T&&>)
    return fn(done, std::forward<T>(v));
  else
    return fn(std::forward<T>(v));
}
template <class F, class T>
using work_result_t = std::decay_t<decltype(invoke_work(std::declval<F&>(), std::declval<const done_chan&>(),
                                                        std::declval<T&&>()))>;

// Go's non-blocking pulse: `select { case heartbeat <- struct{}{}: default: }`.
inline void try_pulse(const send_chan<unit>& heartbeat) {
  weft::select(weft::on_send(heartbeat, unit{}), weft::on_default());
}

}  // namespace detail
}  // namespace weft::patterns
