// weft::patterns generators — the book's "Some Useful Generators": sources
// and a limiter to build pipelines from.
//
//   generator(done, {1, 2, 3})        1 2 3, then closed (also generator(done, 1, 2, 3),
//                                     or a std::vector)
//   repeat(done, {1, 2})              1 2 1 2 1 2 ... until done closes (also repeat(done, 1, 2))
//   repeat_fn(done, [] { return rand(); })   fn() forever, until done closes
//   take(done, in, 10)                the first 10 values of in, then closed
//
//   for (int v : take(done, repeat(done, {1, 2}), 5)) ...   // 1 2 1 2 1
//
// Each call starts one goroutine that owns and, when it returns, closes its
// output. generator returns after its last value; repeat and repeat_fn only
// when done closes (an infinite source must be stopped: close done when the
// pipeline is finished); take after n values, when in is closed and drained,
// or when done closes. take does not stop its upstream: a repeat behind it
// waits, blocked on its next send, until done closes. Done takes priority
// (patterns/detail.hpp).
//
// Because sends block until the consumer takes the value, an infinite source
// computes only one value ahead: take(n) of repeat_fn calls fn n + 1 times
// (the last one is computed, offered and dropped when done closes).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"

namespace weft::patterns {

namespace detail {
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
// The book's variadic form, generator(done, 1, 2, 3): values that are not
// themselves a vector or an initializer list.
template <class... A>
concept value_list = sizeof...(A) >= 1 && (!is_vector<std::remove_cvref_t<A>>::value && ...) &&
                     requires { typename std::common_type_t<std::decay_t<A>...>; };
template <class... A>
using value_list_t = std::common_type_t<std::decay_t<A>...>;
}  // namespace detail

// values, once each, in order.
template <class T>
recv_chan<T> generator(done_chan done, std::vector<T> values) {
  auto out = make_chan<T>();
  weft::go([done = std::move(done), values = std::move(values), out]() mutable {
    for (T& v : values)
      if (!detail::send_or_done(done, out, std::move(v))) break;
    out.close();
  });
  return out;
}
template <class T>
recv_chan<T> generator(done_chan done, std::initializer_list<T> values) {
  return generator(std::move(done), std::vector<T>(values));
}
template <class... A>
  requires detail::value_list<A...>
recv_chan<detail::value_list_t<A...>> generator(done_chan done, A&&... values) {
  return generator(std::move(done), std::vector<detail::value_list_t<A...>>{std::forward<A>(values)...});
}

// values, over and over, until done closes. No values: the output is closed at
// once (the book's repeat would spin forever).
template <class T>
recv_chan<T> repeat(done_chan done, std::vector<T> values) {
  static_assert(std::is_copy_constructible_v<T>, "repeat: T must be copyable (each value is sent many times)");
  auto out = make_chan<T>();
  weft::go([done = std::move(done), values = std::move(values), out] {
    for (bool more = !values.empty(); more;)
      for (const T& v : values)
        if (!detail::send_or_done(done, out, v)) {
          more = false;
          break;
        }
    out.close();
  });
  return out;
}
template <class T>
recv_chan<T> repeat(done_chan done, std::initializer_list<T> values) {
  return repeat(std::move(done), std::vector<T>(values));
}
template <class... A>
  requires detail::value_list<A...>
recv_chan<detail::value_list_t<A...>> repeat(done_chan done, A&&... values) {
  return repeat(std::move(done), std::vector<detail::value_list_t<A...>>{std::forward<A>(values)...});
}

// fn(), fn(), ... until done closes; fn runs in the generator's goroutine.
template <class F>
auto repeat_fn(done_chan done, F fn) -> recv_chan<std::decay_t<std::invoke_result_t<F&>>> {
  using T = std::decay_t<std::invoke_result_t<F&>>;
  auto out = make_chan<T>();
  weft::go([done = std::move(done), fn = std::move(fn), out]() mutable {
    while (detail::send_or_done(done, out, fn())) {
    }
    out.close();
  });
  return out;
}

// The first n values of in (fewer if in closes first).
template <class T>
recv_chan<T> take(done_chan done, recv_chan<T> in, std::size_t n) {
  auto out = make_chan<T>();
  weft::go([done = std::move(done), in = std::move(in), out, n] {
    // Receive and send each under done: the book's `takeStream <- <-valueStream`
    // receives outside the select and so cannot be stopped while in is idle.
    for (std::size_t i = 0; i < n; ++i) {
      auto v = detail::recv_or_done(done, in);
      if (!v || !detail::send_or_done(done, out, std::move(*v))) break;
    }
    out.close();
  });
  return out;
}
template <class T>
recv_chan<T> take(done_chan done, const chan<T>& in, std::size_t n) {
  return take(std::move(done), recv_chan<T>(in), n);
}

}  // namespace weft::patterns
