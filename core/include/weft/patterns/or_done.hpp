// weft::patterns::or_done — range over a channel you do not own, and still stop
// when done closes.
//
//   for (auto v : weft::patterns::or_done(done, their_chan)) { ... }
//
// `for (auto v : in)` ends only when in is closed, which is not ours to do;
// or_done's output ends when in closes or when done does, whichever is first.
//
// One goroutine: it forwards each value of in to the output and returns when
// in is closed and drained or done closes; it closes the output (which it
// owns) when it returns. Done takes priority (patterns/detail.hpp): once the
// goroutine has seen done closed it receives nothing more from in, so the
// consumer gets at most the one value already on offer.
#pragma once

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"

namespace weft::patterns {

template <class T>
recv_chan<T> or_done(done_chan done, recv_chan<T> in) {
  auto out = make_chan<T>();
  weft::go([done = std::move(done), in = std::move(in), out] {
    while (auto v = detail::recv_or_done(done, in))
      if (!detail::send_or_done(done, out, std::move(*v))) break;
    out.close();
  });
  return out;
}
template <class T>
recv_chan<T> or_done(done_chan done, const chan<T>& in) {
  return or_done(std::move(done), recv_chan<T>(in));
}

}  // namespace weft::patterns
