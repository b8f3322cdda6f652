// weft::once — Go's sync.Once: run a function exactly once.
//
//   weft::once o;
//   o.call([] { init(); });     // every caller returns after init() has finished
//
// The first call runs fn; concurrent calls wait for it, later calls return at
// once (one atomic load). Once counts calls, not functions: a second call
// with a different fn does nothing. If fn throws, the exception reaches the
// caller that ran it and the once still counts as done (Go's Do does not
// retry). Calling o.call from inside its own fn deadlocks, as in Go.
//
// State: done_ (0 until fn has returned or thrown) and a mutex the slow path
// runs fn under.
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

  template <class F>
  void call(F&& fn, const weft::source_location& where = weft::source_location::current()) {
    static_assert(std::is_invocable_v<F&>, "weft::once::call: fn must be callable with no arguments");
    detail::sched_point(detail::op::once, this);
    if (done_.load(std::memory_order_acquire) != 0) {
      detail::hb_acquire(this);
      return;
    }
    call_slow([](void* f) { (*static_cast<std::remove_reference_t<F>*>(f))(); },
              const_cast<void*>(static_cast<const volatile void*>(std::addressof(fn))), where);
  }

 private:
  void call_slow(void (*invoke)(void*), void* fn, const weft::source_location& where);

  std::atomic<std::uint32_t> done_{0};
  mutex m_;
};

}  // namespace weft
