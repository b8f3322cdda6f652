// word_lock — the runtime's spin_lock algorithm (runtime/lock.hpp: spin, then
// sleep on a futex; 0 free, 1 locked, 2 locked with sleepers) over a word
// that lives in a public header, where the runtime's class cannot.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/lock.hpp"

namespace weft::detail {

inline void word_lock(std::atomic<std::uint32_t>& s) noexcept {
  std::uint32_t c = 0;
  if (s.compare_exchange_strong(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
  for (int i = 0; i < 100; ++i) {
    cpu_relax();
    c = s.load(std::memory_order_relaxed);
    if (c == 0 && s.compare_exchange_weak(c, 1, std::memory_order_acquire, std::memory_order_relaxed))
      return;
  }
  if (c != 2) c = s.exchange(2, std::memory_order_acquire);
  while (c != 0) {
    futex_wait(&s, 2);
    c = s.exchange(2, std::memory_order_acquire);
  }
}

inline void word_unlock(std::atomic<std::uint32_t>& s) noexcept {
  if (s.exchange(0, std::memory_order_release) == 2) futex_wake(&s, 1);
}

}  // namespace weft::detail
