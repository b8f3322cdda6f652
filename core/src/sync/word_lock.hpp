// word_lock — the runtime's spin_lock algorithm (runtime/lock.hpp: test and
// test-and-set, yielding the CPU when the holder's thread seems preempted;
// unlock a plain release store) over a word that lives in a public header,
// where the runtime's class cannot. For critical sections of a few
// instructions that never park (atomic_value's pointer copy): a plain-store
// unlock saves one atomic read-modify-write per critical section over a
// futex lock, which must exchange to learn whether anyone sleeps.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

#include "runtime/lock.hpp"

namespace weft::detail {

inline void word_lock(std::atomic<std::uint32_t>& s) noexcept {
  if (WEFT_LIKELY(s.exchange(1, std::memory_order_acquire) == 0)) return;
  for (unsigned spins = 0;; ++spins) {
    // Test before test-and-set, so waiters spin on a shared cache line.
    while (s.load(std::memory_order_relaxed) != 0) {
      if (spins < 64)
        cpu_relax();
      else
        ::sched_yield();  // the holder's thread was preempted: give it the CPU
      ++spins;
    }
    if (s.exchange(1, std::memory_order_acquire) == 0) return;
  }
}

inline void word_unlock(std::atomic<std::uint32_t>& s) noexcept { s.store(0, std::memory_order_release); }

}  // namespace weft::detail
