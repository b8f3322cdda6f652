// weft::patterns::buffer — a queue between two pipeline stages (Concurrency in
// Go, "Queuing").
//
//   auto fast = weft::patterns::buffer(done, slow_producer_output, 8);
//
// A buffer does not make a pipeline faster (its throughput is its slowest
// stage's); it decouples the stages on either side, so the one upstream can
// run ahead by up to n values instead of waiting on each hand-off. Use it at a
// pipeline's entrance, or where batching pays.
//
// One goroutine: it moves values from in to an output of capacity n, and
// returns when in is closed and drained or done closes, closing the output
// (values already queued stay receivable). Done takes priority
// (patterns/detail.hpp).
#pragma once

#include <cstddef>
#include <utility>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"

namespace weft::patterns {

template <class T>
recv_chan<T> buffer(done_chan done, recv_chan<T> in, std::size_t n) {
  auto out = make_chan<T>(n);
  weft::go([done = std::move(done), in = std::move(in), out] {
    while (auto v = detail::recv_or_done(done, in))
      if (!detail::send_or_done(done, out, std::move(*v))) break;
    out.close();
  });
  return out;
}
template <class T>
recv_chan<T> buffer(done_chan done, const chan<T>& in, std::size_t n) {
  return buffer(std::move(done), recv_chan<T>(in), n);
}

}  // namespace weft::patterns
