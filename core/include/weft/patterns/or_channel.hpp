// weft::patterns::or_channel — one done channel that closes as soon as any of
// several channels is ready (closed, or holding a value).
//
//   auto any = weft::patterns::or_channel(sig(2h), sig(5min), sig(1s));  // closes after 1s
//   auto stop = weft::patterns::or_channel(ctx.done(), weft::after(5s));  // mixed types are fine
//
// Goroutines and who closes what. The vector form is the book's recursion:
// each goroutine waits on three inputs, on its parent's output (`stop`), and
// on the or of the remaining inputs, whose `stop` is this goroutine's output;
// about n/3 goroutines for n inputs. The variadic form is one goroutine
// waiting on every input in a single select (its arity is known at compile
// time, the vector's is not). Every goroutine closes its own output once when
// it returns, and returns as soon as any input, its parent's output or its
// child's output is ready, so one ready input takes the whole tree down,
// leaves and root alike. Nothing else stops them: like the book's or, the
// result closes only when an input fires, so an or of channels that never
// fire keeps its goroutines (include a done channel among the inputs to bound
// them). Zero inputs give the nil channel (never closes); one signal channel
// is returned as is.
//
// A channel that fires by sending a value (weft::after) has that value
// consumed by the or; signal channels are only ever closed.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/chan.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"
#include "weft/select.hpp"
#include "weft/unit.hpp"

namespace weft::patterns {

namespace detail {

// Closed when any of chans[first..] or stop is ready.
// (The goroutines share one copy of the inputs.)
template <class T>
recv_chan<unit> or_tree(std::shared_ptr<const std::vector<recv_chan<T>>> chans, std::size_t first,
                        recv_chan<unit> stop) {
  auto out = make_chan<unit>();
  const std::size_t n = chans->size() - first;
  if (n <= 3) {
    // A leaf: at most three inputs plus stop; unused slots stay nil (never chosen).
    recv_chan<T> c[3];
    for (std::size_t i = 0; i < n; ++i) c[i] = (*chans)[first + i];
    weft::go([out, stop, c0 = c[0], c1 = c[1], c2 = c[2]] {
      weft::select(on_recv(c0), on_recv(c1), on_recv(c2), on_recv(stop));
      out.close();
    });
  } else {
    weft::go([out, stop, chans = std::move(chans), first] {
      // The child is created here (not by the caller) so that it learns of this
      // goroutine's end through `out`, as in the book's or(append(rest, orDone)).
      recv_chan<unit> rest = or_tree(chans, first + 3, out);
      const auto& in = *chans;
      weft::select(on_recv(in[first]), on_recv(in[first + 1]), on_recv(in[first + 2]), on_recv(stop),
                   on_recv(rest));
      out.close();
    });
  }
  return out;
}

}  // namespace detail

// Closed once any of chans is ready; nil for no channels.
template <class T>
recv_chan<unit> or_channel(std::vector<recv_chan<T>> chans) {
  if (chans.empty()) return {};
  if constexpr (std::is_same_v<T, unit>) {
    if (chans.size() == 1) return chans[0];
  }
  return detail::or_tree(std::make_shared<const std::vector<recv_chan<T>>>(std::move(chans)), 0,
                         recv_chan<unit>{});
}
template <class T>
recv_chan<unit> or_channel(const std::vector<chan<T>>& chans) {
  return or_channel(std::vector<recv_chan<T>>(chans.begin(), chans.end()));
}
template <class T>
recv_chan<unit> or_channel(std::initializer_list<recv_chan<T>> chans) {
  return or_channel(std::vector<recv_chan<T>>(chans));
}
template <class T>
recv_chan<unit> or_channel(std::initializer_list<chan<T>> chans) {
  return or_channel(std::vector<recv_chan<T>>(chans.begin(), chans.end()));
}

// The same for a fixed list of channels, of any element types: one goroutine.
template <class... C>
  requires(detail::receivable<C> && ...)
recv_chan<unit> or_channel(const C&... chans) {
  if constexpr (sizeof...(C) == 0) {
    return {};
  } else if constexpr (sizeof...(C) == 1 && (std::is_same_v<detail::chan_value_t<C>, unit> && ...)) {
    return recv_chan<unit>(chans...);
  } else {
    auto out = make_chan<unit>();
    weft::go([out, ... c = recv_chan<detail::chan_value_t<C>>(chans)] {
      weft::select(on_recv(c)...);
      out.close();
    });
    return out;
  }
}

}  // namespace weft::patterns
