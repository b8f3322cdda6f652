// weft::patterns::bridge — flatten a channel of channels into one channel.
//
//   weft::chan<weft::recv_chan<int>> streams = ...;    // each a stream of ints
//   for (int v : weft::patterns::bridge(done, streams)) ...
//
// The consumer ranges over values and never handles the channels that carry
// them. Order is kept: every value of the first inner channel, then every
// value of the second, and so on (an inner channel is drained to its close
// before the next one is taken).
//
// One goroutine (the book's inner or_done is folded into it): it returns when
// the channel of channels is closed and drained, or when done closes, and then
// closes the output (it owns it). It never closes the inner channels, which
// belong to their producers. Done takes priority (patterns/detail.hpp).
#pragma once

#include <utility>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"

namespace weft::patterns {

namespace detail {
template <class T, class Inner>
recv_chan<T> bridge_impl(done_chan done, recv_chan<Inner> streams) {
  auto out = make_chan<T>();
  weft::go([done = std::move(done), streams = std::move(streams), out] {
    while (auto stream = recv_or_done(done, streams)) {
      const recv_chan<T> in = *stream;
      bool stopped = false;
      while (auto v = recv_or_done(done, in)) {
        if (!send_or_done(done, out, std::move(*v))) {
          stopped = true;
          break;
        }
      }
      if (stopped || closed_now(done)) break;
    }
    out.close();
  });
  return out;
}
}  // namespace detail

template <class T>
recv_chan<T> bridge(done_chan done, recv_chan<recv_chan<T>> streams) {
  return detail::bridge_impl<T>(std::move(done), std::move(streams));
}
template <class T>
recv_chan<T> bridge(done_chan done, const chan<recv_chan<T>>& streams) {
  return detail::bridge_impl<T>(std::move(done), recv_chan<recv_chan<T>>(streams));
}
template <class T>
recv_chan<T> bridge(done_chan done, recv_chan<chan<T>> streams) {
  return detail::bridge_impl<T>(std::move(done), std::move(streams));
}
template <class T>
recv_chan<T> bridge(done_chan done, const chan<chan<T>>& streams) {
  return detail::bridge_impl<T>(std::move(done), recv_chan<chan<T>>(streams));
}

}  // namespace weft::patterns
