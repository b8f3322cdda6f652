// weft::wait_group — Go's sync.WaitGroup: wait for a collection of goroutines.
//
//   weft::wait_group wg;
//   for (auto& job : jobs) {
//     wg.add(1);
//     weft::go([&] { work(job); wg.done(); });
//   }
//   wg.wait();
//   // or: wg.go([&] { work(job); });   // add(1), then done() when fn returns
//
// State: one 64-bit word, the counter in the high half and the number of
// waiters in the low half (Go's layout), plus a semaphore the waiters park on.
// wait() with a zero counter returns at once; otherwise it counts itself in
// and parks. The add that brings the counter to zero with waiters present
// resets the whole word to zero and releases one token per waiter: from then
// on, and until every released waiter has returned, nobody may add (Go's rule:
// an add that starts a new round must happen after the previous wait
// returned).
//
// Misuse throws panic_error with Go's text: a negative counter ("sync:
// negative WaitGroup counter", the counter is left unchanged: the fast path
// adds like Go and takes the delta back before it panics); add(n > 0)
// starting a round while waiters of the previous one are still being released
// ("sync: WaitGroup misuse: Add called concurrently with Wait"); a waiter that
// finds the group already reused when it wakes ("sync: WaitGroup is reused
// before previous Wait has returned").
//
// Happens-before: every done() (every add with a negative delta) happens
// before the wait() that it lets return.
#pragma once

#include <atomic>
#include <cstdint>
#include "weft/source_location.hpp"
#include <type_traits>
#include <utility>

#include "weft/detail/kernel.hpp"
#include "weft/go.hpp"

namespace weft {

class wait_group {
 public:
  constexpr wait_group() noexcept = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  // Unobserved (no explorer, no TSan listening): Go's Add, one atomic add
  // inline; waking waiters and misuse go out of line.
  void add(int delta) {
    if (WEFT_TSAN || WEFT_UNLIKELY(detail::attention.load(std::memory_order_relaxed) != 0))
      return add_observed(delta);
    const std::uint64_t d = static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32;
    const std::uint64_t s = state_.fetch_add(d, std::memory_order_acq_rel) + d;
    const auto v = static_cast<std::int32_t>(s >> 32);
    const auto w = static_cast<std::uint32_t>(s);
    // Nothing more to do unless the counter went negative, an add raced a
    // wait (a round started with waiters still counted), or it reached zero
    // with waiters to release.
    if (WEFT_LIKELY(w == 0 ? v >= 0 : v > 0 && !(delta > 0 && v == delta))) return;
    add_slow(delta, s);
  }
  void done() { add(-1); }
  // Unobserved with a zero counter: one atomic load, inline.
  void wait(const weft::source_location& where = weft::source_location::current()) {
    if (!WEFT_TSAN && WEFT_LIKELY(state_.load(std::memory_order_acquire) >> 32 == 0) &&
        WEFT_LIKELY(detail::attention.load(std::memory_order_relaxed) == 0))
      return;
    wait_observed(where);
  }

  // Go 1.25's WaitGroup.Go: add(1) and run fn in a new goroutine that calls
  // done() when fn returns (or throws — which is an unrecovered panic anyway).
  template <class F>
  void go(F&& fn, const weft::source_location& site = weft::source_location::current()) {
    static_assert(std::is_invocable_v<std::decay_t<F>&>, "wait_group::go: fn must be callable with no arguments");
    add(1);
    try {
      weft::go(
          [this, f = std::forward<F>(fn)]() mutable {
            struct done_on_exit {
              wait_group* wg;
              // done() is an interleaving point, where a scheduler tearing
              // down may unwind this goroutine (forced_unwind): after fn
              // returned, that must leave the destructor, not terminate.
              // (While fn's exception unwinds, the point does not throw.)
              ~done_on_exit() noexcept(false) { wg->done(); }
            } d{this};
            f();
          },
          site);
    } catch (...) {
      done();
      throw;
    }
  }

 private:
  // add/wait with the interleaving point and happens-before edge that the
  // explorer and TSan listen for (a CAS loop that checks before it commits).
  void add_observed(int delta);
  void wait_observed(const weft::source_location& where);
  // After the inline add left state s: undo and panic (misuse), or release
  // the waiters.
  void add_slow(int delta, std::uint64_t s);

  std::atomic<std::uint64_t> state_{0};  // counter << 32 | waiters
  std::atomic<std::uint32_t> sema_{0};
};

}  // namespace weft
