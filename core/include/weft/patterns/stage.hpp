// weft::patterns::stage — one pipeline stage: fn applied to each value, in order.
//
//   auto squares = weft::patterns::stage(done, numbers, [](long v) { return v * v; });
//   auto pages   = weft::patterns::stage(done, urls, [](weft::patterns::done_chan done, std::string url) {
//                    return fetch(done, url);   // fn may take done to stop early itself
//                  });
//
// A stage takes values in and sends values out; stages compose because each
// one's input and output are channels (Concurrency in Go, "Pipelines").
//
// One goroutine: it receives a value, computes fn on it (not watching done
// meanwhile unless fn takes done), and offers the result; it returns when in is
// closed and drained or done closes, and closes its output (which it owns).
// Done takes priority (patterns/detail.hpp). For several goroutines on one
// stage, see fan_out.
#pragma once

#include <utility>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"

namespace weft::patterns {

template <class T, class F>
auto stage(done_chan done, recv_chan<T> in, F fn) -> recv_chan<detail::work_result_t<F, T>> {
  using R = detail::work_result_t<F, T>;
  auto out = make_chan<R>();
  weft::go([done = std::move(done), in = std::move(in), fn = std::move(fn), out]() mutable {
    while (auto v = detail::recv_or_done(done, in))
      if (!detail::send_or_done(done, out, detail::invoke_work(fn, done, std::move(*v)))) break;
    out.close();
  });
  return out;
}
template <class T, class F>
auto stage(done_chan done, const chan<T>& in, F fn) {
  return stage(std::move(done), recv_chan<T>(in), std::move(fn));
}

}  // namespace weft::patterns
