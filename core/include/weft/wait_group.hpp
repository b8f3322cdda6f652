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
// negative WaitGroup counter", the counter is left unchanged); add(n > 0)
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

  void add(int delta);
  void done() { add(-1); }
  void wait(const weft::source_location& where = weft::source_location::current());

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
              ~done_on_exit() { wg->done(); }
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
  std::atomic<std::uint64_t> state_{0};  // counter << 32 | waiters
  std::atomic<std::uint32_t> sema_{0};
};

}  // namespace weft
