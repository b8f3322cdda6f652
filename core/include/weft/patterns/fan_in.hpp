// weft::patterns::fan_in — merge several channels into one (multiplexing).
//
//   for (auto v : weft::patterns::fan_in(done, {a, b, c})) ...   // or (done, a, b, c), or a vector
//
// Values of one input keep their order; values of different inputs interleave
// in whatever order they arrive. The output closes once every input is closed
// and drained, or once done closes.
//
// Goroutines: one per input, forwarding it to the output until that input is
// closed and drained or done closes (each waits on done while receiving too,
// so an idle input never pins it; the book's `for i := range c` does not), and
// one more that waits for all of them (a wait_group) and then closes the
// output, which only it may do: the forwarders share the output, so none of
// them can know it is the last. Done takes priority (patterns/detail.hpp).
#pragma once

#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"
#include "weft/wait_group.hpp"

namespace weft::patterns {

template <class T>
recv_chan<T> fan_in(done_chan done, std::vector<recv_chan<T>> ins) {
  auto out = make_chan<T>();
  // Shared by the forwarders and the closer; the last of them frees it.
  auto wg = std::make_shared<wait_group>();
  wg->add(static_cast<int>(ins.size()));
  for (auto& in : ins)
    weft::go([done, in = std::move(in), out, wg] {
      while (auto v = detail::recv_or_done(done, in))
        if (!detail::send_or_done(done, out, std::move(*v))) break;
      wg->done();
    });
  weft::go([out, wg] {
    wg->wait();
    out.close();
  });
  return out;
}
template <class T>
recv_chan<T> fan_in(done_chan done, const std::vector<chan<T>>& ins) {
  return fan_in(std::move(done), std::vector<recv_chan<T>>(ins.begin(), ins.end()));
}
template <class T>
recv_chan<T> fan_in(done_chan done, std::initializer_list<recv_chan<T>> ins) {
  return fan_in(std::move(done), std::vector<recv_chan<T>>(ins));
}
template <class T>
recv_chan<T> fan_in(done_chan done, std::initializer_list<chan<T>> ins) {
  return fan_in(std::move(done), std::vector<recv_chan<T>>(ins.begin(), ins.end()));
}
// The book's variadic fanIn(done, channels...): channels of one element type.
template <detail::receivable C, detail::receivable... Cs>
  requires(std::is_same_v<detail::chan_value_t<C>, detail::chan_value_t<Cs>> && ...)
recv_chan<detail::chan_value_t<C>> fan_in(done_chan done, const C& first, const Cs&... rest) {
  using T = detail::chan_value_t<C>;
  return fan_in(std::move(done), std::vector<recv_chan<T>>{recv_chan<T>(first), recv_chan<T>(rest)...});
}

}  // namespace weft::patterns
