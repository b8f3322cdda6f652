// detail::spin_lock — the runtime's internal lock (channels, timers, queues).
//
// Held only for a few instructions and never across a park, so waiters spin
// (test-and-test-and-set), yielding the CPU if the holder's thread seems to have
// been preempted. Written here rather than using std::mutex because it must be
// usable from the post-switch hook that runs between two goroutines, because an
// unlock must be a plain store (speed), and because TSan must not see it
// (sanitizers.hpp): a pthread mutex would be intercepted and invent
// happens-before edges between goroutines.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "weft/detail/config.hpp"
#include <ctime>

namespace weft::detail {

inline void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t expected,
                       const struct timespec* rel_timeout = nullptr) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAIT_PRIVATE, expected,
            rel_timeout, nullptr, 0);
}
inline void futex_wake(std::atomic<std::uint32_t>* addr, int n) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr,
            nullptr, 0);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// A spinning waiter's pause: the CPU's spin hint at first, then, once the
// holder's thread seems to have been preempted, the CPU itself.
struct spin_backoff {
  unsigned spins = 0;
  void pause() noexcept {
    if (spins++ < 64)
      cpu_relax();
    else
      ::sched_yield();
  }
};

class spin_lock {
 public:
  void lock() noexcept {
    if (WEFT_LIKELY(!locked_.exchange(true, std::memory_order_acquire))) return;
    slow_lock();
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  // A plain release store: no read-modify-write on the hot path (a channel
  // operation takes and drops a lock or two; each RMW costs ~20 cycles).
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  void slow_lock() noexcept {
    spin_backoff b;
    for (;;) {
      // Test before test-and-set, so waiters spin on a shared cache line.
      while (locked_.load(std::memory_order_relaxed)) b.pause();
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }
  std::atomic<bool> locked_{false};
};

// std::lock_guard needs nothing more; kept as a name for grep-ability.
template <class Lock = spin_lock>
struct lock_guard {
  explicit lock_guard(Lock& l) noexcept : l_(l) { l_.lock(); }
  ~lock_guard() { l_.unlock(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;
  Lock& l_;
};

}  // namespace weft::detail
