// weft::patterns::fan_out — run one pipeline stage on several goroutines.
//
//   auto outs = weft::patterns::fan_out(done, urls, 4, fetch);
//   for (auto page : weft::patterns::fan_in(done, outs)) ...   // fan back in
//
// Returns the workers' output channels, one per worker, for the caller to fan
// in (fan_in) or to consume otherwise: fan-out is the split, fan-in the merge,
// as in the book. Worth it for a stage whose values are independent of one
// another and whose work is slow; the order of results across workers is lost
// (each worker's own results stay in its input order).
//
// Goroutines: `workers` of them, all receiving from the one input (a channel
// is safe for many receivers), each computing fn(v) — or fn(done, v) if fn
// takes done — and offering the result on its own output. Each returns when in
// is closed and drained or done closes, and closes its output (it owns it).
// Each worker has its own copy of fn. Done takes priority
// (patterns/detail.hpp).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"

namespace weft::patterns {

template <class T, class F>
auto fan_out(done_chan done, recv_chan<T> in, std::size_t workers, F fn)
    -> std::vector<recv_chan<detail::work_result_t<F, T>>> {
  using R = detail::work_result_t<F, T>;
  std::vector<recv_chan<R>> outs;
  outs.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    auto out = make_chan<R>();
    weft::go([done, in, fn, out]() mutable {
      while (auto v = detail::recv_or_done(done, in))
        if (!detail::send_or_done(done, out, detail::invoke_work(fn, done, std::move(*v)))) break;
      out.close();
    });
    outs.push_back(out);
  }
  return outs;
}
template <class T, class F>
auto fan_out(done_chan done, const chan<T>& in, std::size_t workers, F fn) {
  return fan_out(std::move(done), recv_chan<T>(in), workers, std::move(fn));
}

}  // namespace weft::patterns
