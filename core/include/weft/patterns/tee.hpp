// weft::patterns::tee — split one channel into two that carry the same values
// (Unix's tee).
//
//   auto [logs, commands] = weft::patterns::tee(done, user_commands);
//
// One goroutine. For each value of in it offers the value on both outputs, in
// whichever order their consumers take it, and reads the next value only
// once both have: the outputs move in lock step, so a consumer that stops
// reading one output stalls the other (as in the book; put a buffer stage
// behind an output that may lag). It returns when in is closed and drained or
// done closes, and closes both outputs (it owns them) when it does. Done takes
// priority (patterns/detail.hpp). T must be copyable.
#pragma once

#include <type_traits>
#include <utility>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"
#include "weft/select.hpp"

namespace weft::patterns {

template <class T>
std::pair<recv_chan<T>, recv_chan<T>> tee(done_chan done, recv_chan<T> in) {
  static_assert(std::is_copy_constructible_v<T>, "tee: T must be copyable (each value goes to two channels)");
  auto out1 = make_chan<T>();
  auto out2 = make_chan<T>();
  weft::go([done = std::move(done), in = std::move(in), out1, out2] {
    bool stop = false;
    while (!stop) {
      auto v = detail::recv_or_done(done, in);
      if (!v) break;
      // The book's trick: a channel that has had the value becomes nil, so the
      // second round of the select can only pick the other one.
      send_chan<T> a = out1, b = out2;
      for (int i = 0; i < 2 && !stop; ++i) {
        if (detail::closed_now(done)) {
          stop = true;
          break;
        }
        weft::select(weft::on_recv(done, [&](auto) { stop = true; }),
                     weft::on_send(a, *v, [&] { a = {}; }),
                     weft::on_send(b, *v, [&] { b = {}; }));
      }
    }
    out1.close();
    out2.close();
  });
  return {out1, out2};
}
template <class T>
std::pair<recv_chan<T>, recv_chan<T>> tee(done_chan done, const chan<T>& in) {
  return tee(std::move(done), recv_chan<T>(in));
}

}  // namespace weft::patterns
