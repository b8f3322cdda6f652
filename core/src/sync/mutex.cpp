// weft::mutex: Go's sync.Mutex (sync/mutex.go), step for step, on the
// runtime semaphore (sema.hpp). The state word and its modes are described in
// mutex.hpp; the comments here follow Go's.
//
// TSan: the state word and the semaphore are runtime bookkeeping (inside a
// runtime_section); the user-visible edge is stated by hb_release/hb_acquire
// on the mutex's address, outside it.
#include "weft/mutex.hpp"

#include <chrono>

#include "runtime/sanitizers.hpp"
#include "sync/sema.hpp"
#include "weft/panic.hpp"

namespace weft {

using detail::runtime_section;
using detail::sema_unwound;

namespace {

constexpr std::int32_t locked_bit = 1;
constexpr std::int32_t woken_bit = 2;
constexpr std::int32_t starving_bit = 4;
constexpr int waiter_shift = 3;
constexpr std::int32_t one_waiter = 1 << waiter_shift;
// A waiter that has waited longer than this switches the mutex to
// starvation mode (Go's starvationThresholdNs).
constexpr duration starvation_threshold = std::chrono::milliseconds(1);

// Spinning pays only where another worker may release the mutex meanwhile: a
// few rounds of pause instructions (Go's active_spin = 4, active_spin_cnt =
// 30), and only if the kernel says spinning can pay (Go's runtime_canSpin:
// another worker busy, nothing queued on ours, never under the explorer).
// Spinning never changes the outcome, only its cost.
constexpr int active_spin = 4;
constexpr int active_spin_cnt = 30;

bool can_spin(int iter) noexcept { return iter < active_spin && detail::spinning_pays(); }

void do_spin() noexcept {
  for (int i = 0; i < active_spin_cnt; ++i) detail::cpu_relax();
}

constexpr std::int32_t waiters(std::int32_t state) noexcept { return state >> waiter_shift; }

}  // namespace

bool mutex::try_lock(const weft::source_location& where) {
  detail::sched_point(detail::op::mutex_lock, this);
  if (!try_lock_impl()) return false;
  detail::hb_acquire(this);
  detail::resource_acquired(this, detail::resource_kind::mutex, where);
  return true;
}

void mutex::unlocked_panic() { throw panic_error("sync: unlock of unlocked mutex"); }

void mutex::lock_observed(const weft::source_location& where) {
  detail::sched_point(detail::op::mutex_lock, this);
  lock_impl(detail::wait_reason::mutex, this, where);
  detail::hb_acquire(this);
  detail::resource_acquired(this, detail::resource_kind::mutex, where);
}

void mutex::lock_contended(std::int32_t cur, const weft::source_location& where) {
  // Unlocked, normal mode, waiters queued (the fast path's CAS wants no
  // waiters at all): take it ahead of them, as the first round of lockSlow
  // would. Under load this is the common case: saves a call and a reload.
  if ((cur & (locked_bit | starving_bit)) == 0 &&
      state_.compare_exchange_strong(cur, cur | locked_bit, std::memory_order_acquire, std::memory_order_relaxed)) {
    detail::hb_acquire(this);
    detail::resource_acquired(this, detail::resource_kind::mutex, where);
    return;
  }
  lock_slow(detail::wait_reason::mutex, this, where);
  // Free unless something started listening while we waited.
  detail::hb_acquire(this);
  detail::resource_acquired(this, detail::resource_kind::mutex, where);
}

void mutex::unlock_observed() {
  detail::sched_point(detail::op::mutex_unlock, this);
  // Check before releasing anything: misuse must leave no trace.
  if (!locked()) unlocked_panic();
  detail::resource_released(this, detail::resource_kind::mutex);
  detail::hb_release(this);
  if (!unlock_impl()) unlocked_panic();  // raced with another unlock
}

void mutex::unlock_slow_entry(std::int32_t left) {
  if (((left + locked_bit) & locked_bit) == 0) {
    // It was not locked (misuse, or a concurrent double unlock): undo, panic.
    state_.fetch_add(locked_bit, std::memory_order_relaxed);
    unlocked_panic();
  }
  // Normal mode with nobody to wake, or someone awake or holding it already:
  // nothing to do (wake_one_waiter's first test, without its calls).
  if ((left & starving_bit) == 0 && (waiters(left) == 0 || (left & (locked_bit | woken_bit)) != 0)) return;
  unlock_slow(left);
}

bool mutex::locked() const noexcept {
  runtime_section rs;
  return (state_.load(std::memory_order_relaxed) & locked_bit) != 0;
}

void mutex::lock_impl(detail::wait_reason why, const void* obj, const weft::source_location& where) {
  {
    runtime_section rs;
    // Fast path: grab an unlocked mutex.
    std::int32_t old = 0;
    if (state_.compare_exchange_strong(old, locked_bit, std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return;
  }
  lock_slow(why, obj, where);
}

bool mutex::try_lock_impl() noexcept {
  runtime_section rs;
  std::int32_t old = state_.load(std::memory_order_relaxed);
  // Starving: the mutex belongs to the front waiter even when the locked bit
  // is clear. Otherwise a waiter may be queued or waking, but we are running
  // and may take the mutex ahead of it.
  if ((old & (locked_bit | starving_bit)) != 0) return false;
  return state_.compare_exchange_strong(old, old | locked_bit, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

void mutex::lock_slow(detail::wait_reason why, const void* obj, const weft::source_location& where) {
  runtime_section rs;
  time_point wait_start{};
  bool queued_before = false;
  bool starving = false;  // this goroutine has waited past the threshold
  bool awoke = false;     // this goroutine set (or was woken with) the woken bit
  int iter = 0;
  std::int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Don't spin in starvation mode: ownership is handed to waiters, so we
    // could not take the mutex anyway.
    if ((old & (locked_bit | starving_bit)) == locked_bit && can_spin(iter)) {
      // Set the woken bit so that unlock does not wake a waiter that would
      // only compete with us.
      if (!awoke && (old & woken_bit) == 0 && waiters(old) != 0 &&
          state_.compare_exchange_strong(old, old | woken_bit, std::memory_order_relaxed))
        awoke = true;
      do_spin();
      ++iter;
      old = state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int32_t next = old;
    // Don't take a starving mutex: arrivals queue.
    if ((old & starving_bit) == 0) next |= locked_bit;
    if ((old & (locked_bit | starving_bit)) != 0) next += one_waiter;
    // Switch to starvation mode, but only while the mutex is held: unlock
    // expects a starving mutex to have waiters, which would not be so if we
    // took it now.
    if (starving && (old & locked_bit) != 0) next |= starving_bit;
    if (awoke) {
      // Woken from the queue (or spinning with the bit set): clear it either way.
      if ((next & woken_bit) == 0) detail::sync_fatal("sync: inconsistent mutex state");
      next &= ~woken_bit;
    }
    if (!state_.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed))
      continue;  // old reloaded
    if ((old & (locked_bit | starving_bit)) == 0) return;  // locked by the CAS
    // Queue. A waiter that was woken and lost goes back to the front.
    const bool lifo = queued_before;
    if (!queued_before) {
      wait_start = detail::now();
      queued_before = true;
    }
    sema_unwound how = sema_unwound::queued;
    try {
      detail::sema_acquire(&sema_, lifo, why, obj, where, &how);
    } catch (...) {
      abandon_wait(static_cast<std::uint8_t>(how), starving);
      throw;
    }
    starving = starving || detail::now() - wait_start > starvation_threshold;
    old = state_.load(std::memory_order_acquire);
    if ((old & starving_bit) != 0) {
      // Handed off to us: the locked bit is clear and we are still counted as
      // a waiter. Fix both.
      if ((old & (locked_bit | woken_bit)) != 0 || waiters(old) == 0)
        detail::sync_fatal("sync: inconsistent mutex state");
      std::int32_t delta = locked_bit - one_waiter;
      // Leave starvation mode if we did not starve, or nobody is left behind
      // us: starvation mode is so slow that two goroutines could otherwise
      // hand the mutex back and forth for ever.
      if (!starving || waiters(old) == 1) delta -= starving_bit;
      state_.fetch_add(delta, std::memory_order_acq_rel);
      return;
    }
    awoke = true;
    iter = 0;
  }
}

bool mutex::unlock_impl() noexcept {
  std::int32_t next;
  {
    runtime_section rs;
    std::int32_t old = state_.load(std::memory_order_relaxed);
    do {
      if ((old & locked_bit) == 0) return false;
      next = old - locked_bit;
    } while (!state_.compare_exchange_weak(old, next, std::memory_order_release,
                                           std::memory_order_relaxed));
  }
  if (next != 0) unlock_slow(next);
  return true;
}

void mutex::unlock_slow(std::int32_t next) noexcept {
  runtime_section rs;
  if ((next & starving_bit) == 0) {
    wake_one_waiter(next);
  } else {
    // Starvation mode: hand the mutex to the front waiter. The locked bit stays
    // clear until it runs, but the starving bit keeps arrivals out.
    detail::sema_release(&sema_, /*handoff=*/true);
  }
}

void mutex::wake_one_waiter(std::int32_t old) noexcept {
  for (;;) {
    // Nobody to wake, or someone is already awake or holds the mutex, or it
    // went into starvation mode after our unlock (its next holder's unlock
    // does the handoff then): nothing to do.
    if (waiters(old) == 0 || (old & (locked_bit | woken_bit | starving_bit)) != 0) return;
    // Take the right to wake one.
    std::int32_t next = (old - one_waiter) | woken_bit;
    if (state_.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      detail::sema_release(&sema_, /*handoff=*/true);
      return;
    }
  }
}

// Teardown only (the scheduler is unwinding its goroutines one at a time):
// leave the state as if this goroutine had never waited, so that the others,
// unwinding after it, can still lock and unlock.
void mutex::abandon_wait(std::uint8_t how_raw, bool starving) noexcept {
  runtime_section rs;
  switch (static_cast<sema_unwound>(how_raw)) {
    case sema_unwound::queued: {
      // Uncount ourselves; a starving mutex without waiters is a normal one.
      std::int32_t old = state_.load(std::memory_order_relaxed), next;
      do {
        next = old - one_waiter;
        if (waiters(next) == 0) next &= ~starving_bit;
      } while (!state_.compare_exchange_weak(old, next, std::memory_order_acq_rel,
                                             std::memory_order_relaxed));
      return;
    }
    case sema_unwound::woken_lost:
      // The goroutine that took our token plays the woken waiter's part.
      return;
    case sema_unwound::woken:
    case sema_unwound::handed: {
      // Woken with the token. As in lock_slow, the mutex state says what the
      // wake-up meant: a starving mutex was handed to us (take it as
      // lock_slow would, then pass it on); otherwise we were the woken
      // waiter (give up that role and let unlock's logic wake the next one).
      std::int32_t old = state_.load(std::memory_order_relaxed);
      if ((old & starving_bit) != 0) {
        std::int32_t delta = locked_bit - one_waiter;
        if (!starving || waiters(old) == 1) delta -= starving_bit;
        state_.fetch_add(delta, std::memory_order_acq_rel);
        (void)unlock_impl();
        return;
      }
      while (!state_.compare_exchange_weak(old, old & ~woken_bit, std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {
      }
      wake_one_waiter(old & ~woken_bit);
      return;
    }
  }
}

}  // namespace weft
