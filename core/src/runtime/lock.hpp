// detail::spin_lock — the runtime's internal lock (channels, timers, queues).
//
// Held only for a few instructions and never across a park, so it spins
// briefly and then sleeps on a futex (Drepper's three-state mutex: 0 free,
// 1 locked, 2 locked with sleepers). Written here rather than using std::mutex
// because it must be usable from the post-switch hook that runs between two
// goroutines, and because TSan must not see it (see tsan.hpp): a pthread mutex
// would be intercepted and invent happens-before edges between goroutines.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
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

class spin_lock {
 public:
  void lock() noexcept {
    std::uint32_t c = 0;
    if (fast_cas(c)) return;
    slow_lock(c);
  }
  bool try_lock() noexcept {
    std::uint32_t c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake(&state_, 1);
  }

 private:
  bool fast_cas(std::uint32_t& c) noexcept {
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void slow_lock(std::uint32_t c) noexcept {
    for (int i = 0; i < 100; ++i) {
      cpu_relax();
      c = state_.load(std::memory_order_relaxed);
      if (c == 0 && state_.compare_exchange_weak(c, 1, std::memory_order_acquire,
                                                 std::memory_order_relaxed))
        return;
    }
    if (c != 2) c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      futex_wait(&state_, 2);
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }
  std::atomic<std::uint32_t> state_{0};
};

// std::lock_guard needs nothing more; kept as a name for grep-ability.
struct lock_guard {
  explicit lock_guard(spin_lock& l) noexcept : l_(l) { l_.lock(); }
  ~lock_guard() { l_.unlock(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;
  spin_lock& l_;
};

}  // namespace weft::detail
