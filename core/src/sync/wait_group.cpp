// weft::wait_group: Go's sync.WaitGroup (sync/waitgroup.go) on the runtime
// semaphore. State layout and rules in wait_group.hpp.
//
// One difference from Go: a misuse panic leaves the counter as it was (Go's
// Add has already changed it when it panics; Go's panics are fatal in
// practice, weft's are testable). The inline fast path (wait_group.hpp) adds
// exactly as Go does and, on misuse, takes its delta back before panicking;
// add_observed, used under the explorer and TSan, is a compare-and-swap loop
// that checks before it commits, so there the counter never changes at all.
#include "weft/wait_group.hpp"

#include <climits>

#include "runtime/sanitizers.hpp"
#include "sync/sema.hpp"
#include "weft/panic.hpp"

namespace weft {

using detail::runtime_section;

namespace {
constexpr const char* concurrent_add = "sync: WaitGroup misuse: Add called concurrently with Wait";
constexpr std::int32_t counter_of(std::uint64_t s) noexcept { return static_cast<std::int32_t>(s >> 32); }
constexpr std::uint32_t waiters_of(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s); }
}  // namespace

void wait_group::add_slow(int delta, std::uint64_t s) {
  runtime_section rs;
  const std::int32_t v = counter_of(s);
  const std::uint32_t w = waiters_of(s);
  const std::uint64_t d = static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32;
  // Past INT32_MAX the counter wrapped negative: the same panic, as in Go.
  if (v < 0) {
    state_.fetch_sub(d, std::memory_order_relaxed);
    throw panic_error("sync: negative WaitGroup counter");
  }
  if (delta > 0 && v == delta && w != 0) {
    state_.fetch_sub(d, std::memory_order_relaxed);
    throw panic_error(concurrent_add);
  }
  // v == 0, w != 0: we brought the counter to zero with waiters present (see
  // add_observed).
  if (state_.load(std::memory_order_relaxed) != s) throw panic_error(concurrent_add);
  state_.store(0, std::memory_order_release);
  detail::sema_release_n(&sema_, w, /*handoff=*/true);
}

void wait_group::add_observed(int delta) {
  detail::sched_point(detail::op::wg_add, this);
  // Every done() happens before the wait() it releases.
  if (delta < 0) detail::hb_release(this);
  runtime_section rs;
  std::uint64_t old = state_.load(std::memory_order_relaxed);
  std::uint64_t next;
  for (;;) {
    const std::int64_t v = std::int64_t{counter_of(old)} + delta;
    // Past INT32_MAX Go's int32 counter wraps negative: the same panic.
    if (v < 0 || v > INT32_MAX) throw panic_error("sync: negative WaitGroup counter");
    // Starting a round (0 -> n) while the previous round's waiters are still
    // counted means they have not all been released yet.
    if (delta > 0 && counter_of(old) == 0 && waiters_of(old) != 0) throw panic_error(concurrent_add);
    next = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)) << 32) | waiters_of(old);
    if (state_.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed))
      break;
  }
  std::uint32_t w = waiters_of(next);
  if (counter_of(next) > 0 || w == 0) return;
  // We brought the counter to zero with waiters present. Nobody else may
  // touch the state now: adds must not run concurrently with wait, and wait
  // does not count itself in once it sees a zero counter. Check anyway.
  if (state_.load(std::memory_order_relaxed) != next) throw panic_error(concurrent_add);
  // Reset the waiter count and release them all.
  state_.store(0, std::memory_order_release);
  detail::sema_release_n(&sema_, w, /*handoff=*/true);
}

void wait_group::wait_observed(const weft::source_location& where) {
  detail::sched_point(detail::op::wg_wait, this);
  {
    runtime_section rs;
    std::uint64_t old = state_.load(std::memory_order_acquire);
    for (;;) {
      if (counter_of(old) == 0) break;  // nothing to wait for
      // Count ourselves in as a waiter, then park.
      if (!state_.compare_exchange_weak(old, old + 1, std::memory_order_acq_rel, std::memory_order_acquire))
        continue;
      detail::sema_unwound how = detail::sema_unwound::queued;
      try {
        detail::sema_acquire(&sema_, false, detail::wait_reason::wait_group, this, where, &how);
      } catch (...) {
        // Teardown: a waiter that was never released uncounts itself.
        if (how == detail::sema_unwound::queued) state_.fetch_sub(1, std::memory_order_acq_rel);
        throw;
      }
      // The releasing add reset the state to zero; anything else means the
      // group was reused before this wait returned.
      if (state_.load(std::memory_order_acquire) != 0)
        throw panic_error("sync: WaitGroup is reused before previous Wait has returned");
      break;
    }
  }
  detail::hb_acquire(this);
}

}  // namespace weft
