// weft::mutex — Go's sync.Mutex.
//
//   weft::mutex mu;
//   { std::lock_guard l(mu); ... }           // Lockable: lock_guard, unique_lock, scoped_lock
//   if (mu.try_lock()) { ...; mu.unlock(); }
//
// Not reentrant, not owned: any goroutine may unlock a locked mutex. Unlocking
// an unlocked one throws panic_error("sync: unlock of unlocked mutex") and
// changes nothing. The zero value is an unlocked mutex (constexpr, so a global
// mutex needs no dynamic initialisation).
//
// State machine — one word, as Go's: bit 0 locked; bit 1 woken (a goroutine
// woken from the queue, or spinning, is about to retry, so unlock need not
// wake another); bit 2 starving; the rest counts parked waiters. Waiters park
// on a runtime semaphore keyed by the mutex (src/sync/sema.hpp).
//
//  - Normal mode: waiters queue FIFO, but a woken waiter does not own the
//    mutex. It competes with goroutines arriving now, which usually win
//    because they are already running — better throughput, and programs
//    depend on it. A woken waiter that loses requeues at the front. Arrivals
//    spin briefly (only where another core could be releasing it) before
//    parking.
//  - Starvation mode: entered by a woken waiter that has waited more than
//    1 ms. unlock hands the mutex straight to the front waiter (the locked
//    bit stays clear until it runs; the starving bit keeps the mutex taken);
//    arrivals neither take it nor spin, they queue at the back. Left when the
//    waiter that receives it is the last one or waited less than 1 ms.
//
// Invariants: starving implies held (locked, or handed off and not yet
// taken) and at least one waiter; woken is set by at most one goroutine at a
// time and cleared by that goroutine's next successful update.
//
// Happens-before (Go's memory model): each unlock happens before the lock
// that next acquires the mutex. Under the explorer, lock and unlock are
// interleaving points and feed the deadlock and lock-order checkers.
#pragma once

#include <atomic>
#include <cstdint>
#include "weft/source_location.hpp"

#include "weft/detail/config.hpp"
#include "weft/detail/kernel.hpp"

namespace weft {

class cond;
class once;
class rw_mutex;

class mutex {
 public:
  constexpr mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // Block until the mutex is ours. Uncontended, with nobody listening for
  // interleaving points (no explorer, no TSan): one CAS, inline; contended,
  // Go's lockSlow straight away.
  void lock(const weft::source_location& where = weft::source_location::current()) {
    if (WEFT_TSAN || WEFT_UNLIKELY(detail::attention.load(std::memory_order_relaxed) != 0))
      return lock_observed(where);
    std::int32_t cur = 0;
    if (!state_.compare_exchange_strong(cur, 1, std::memory_order_acquire, std::memory_order_relaxed))
      lock_contended(cur, where);
  }
  // Take the mutex if that needs no wait. Fails in starvation mode (the mutex
  // belongs to the queue) even at the instant it is unlocked.
  bool try_lock(const weft::source_location& where = weft::source_location::current());
  // Release it; any goroutine may. Throws panic_error if it is not locked
  // (and changes nothing). Uncontended and unobserved: one atomic add, inline.
  void unlock() {
    if (WEFT_TSAN || WEFT_UNLIKELY(detail::attention.load(std::memory_order_relaxed) != 0)) return unlock_observed();
    // Go's unlock: drop the locked bit; anything left means waiters or
    // starvation mode (or misuse: then the slow path puts it back and panics).
    std::int32_t left = state_.fetch_sub(1, std::memory_order_release) - 1;
    if (left != 0) unlock_slow_entry(left);
  }

 private:
  friend class cond;
  friend class once;
  friend class rw_mutex;

  // The state machine without interleaving points, edges or resource records,
  // for the primitives built on a mutex. `why`/`obj` describe a wait.
  void lock_impl(detail::wait_reason why, const void* obj, const weft::source_location& where);
  void lock_slow(detail::wait_reason why, const void* obj, const weft::source_location& where);
  bool try_lock_impl() noexcept;
  // False (and nothing changed) when the mutex was not locked.
  [[nodiscard]] bool unlock_impl() noexcept;
  void unlock_slow(std::int32_t new_state) noexcept;
  void wake_one_waiter(std::int32_t old_state) noexcept;
  // A scheduler tearing down unwound a goroutine parked in lock_slow.
  void abandon_wait(std::uint8_t how, bool starving) noexcept;
  bool locked() const noexcept;
  [[noreturn]] static void unlocked_panic();
  // lock/unlock with the interleaving point, happens-before edge and resource
  // record that the explorer and TSan listen for.
  void lock_observed(const weft::source_location& where);
  void unlock_observed();
  // The unobserved lock after its CAS found the state at cur: lockSlow.
  void lock_contended(std::int32_t cur, const weft::source_location& where);
  // After the fast path dropped the locked bit leaving `left`: wake or hand off,
  // or (a concurrent double unlock) put the bit back and panic.
  void unlock_slow_entry(std::int32_t left);

  std::atomic<std::int32_t> state_{0};
  std::atomic<std::uint32_t> sema_{0};
};

}  // namespace weft
