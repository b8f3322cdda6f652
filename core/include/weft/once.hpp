// weft::once — Go's sync.Once: run a function exactly once.
//
//   weft::once o;
//   o.call([] { init(); });     // every caller returns after init() has finished
//
// The first call runs fn; concurrent calls wait for it, later calls return at
// once (one atomic load, inline, when no explorer or TSan listens). Once counts calls, not functions: a second call
// with a different fn does nothing. If fn throws, the exception reaches the
// caller that ran it and the once still counts as done (Go's Do does not
// retry). Calling o.call from inside its own fn deadlocks, as in Go.
//
// State: done_ (0 until fn has returned or thrown; which non-zero value says
// whether the explorer watched it, see below) and a mutex the slow path runs
// fn under.
//
// Happens-before: fn's completion happens before every call returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include "weft/source_location.hpp"
#include <type_traits>

#include "weft/detail/kernel.hpp"
#include "weft/mutex.hpp"

namespace weft {

class once {
 public:
  constexpr once() noexcept = default;
  once(const once&) = delete;
  once& operator=(const once&) = delete;

  // Done by a goroutine nobody was watching (see done_): one load and a
  // branch, inline, as Go's Do. Otherwise call_observed. (`where` by value: a
  // reference would make every call store it.)
  template <class F>
  void call(F&& fn, weft::source_location where = weft::source_location::current()) {
    static_assert(std::is_invocable_v<F&>, "weft::once::call: fn must be callable with no arguments");
    if (!WEFT_TSAN && WEFT_LIKELY(done_.load(std::memory_order_acquire) == done_unobserved)) return;
    call_observed([](void* f) { (*static_cast<std::remove_reference_t<F>*>(f))(); },
                  const_cast<void*>(static_cast<const volatile void*>(std::addressof(fn))), where);
  }

 private:
  // The interleaving point, the done check with its happens-before edge, and
  // call_slow if fn has not run.
  void call_observed(void (*invoke)(void*), void* fn, weft::source_location where);
  void call_slow(void (*invoke)(void*), void* fn, const weft::source_location& where);

  // 0 until fn has returned or thrown. Then done_unobserved, or
  // done_observed when fn ran under a scheduler that listens for interleaving
  // points and edges (the explorer): its calls keep taking call_observed, so
  // every call stays an interleaving point with its edge there. A once done
  // outside the explorer needs neither edge nor point (fn's effects were not
  // recorded), and the real scheduler's preemption points are elsewhere.
  static constexpr std::uint32_t done_unobserved = 1;
  static constexpr std::uint32_t done_observed = 2;
  std::atomic<std::uint32_t> done_{0};
  mutex m_;
};

}  // namespace weft
