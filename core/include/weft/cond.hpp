// weft::cond — Go's sync.Cond: goroutines waiting for an event, bound to a mutex.
//
//   weft::mutex mu;
//   weft::cond c{mu};
//   std::unique_lock l(mu);
//   while (!ready) c.wait();      // mu held: unlocks, parks, relocks
//   ...
//   { std::lock_guard l(mu); ready = true; }  c.broadcast();   // or c.signal()
//
// wait() must be called with mu locked; it atomically (with respect to
// signal and broadcast) releases mu and parks, and relocks mu before
// returning — also when it returns by an exception, so a unique_lock around
// it stays balanced. Waking is not a promise that the condition holds: wait
// in a loop. signal() wakes the longest-waiting goroutine, broadcast() every
// waiter; neither needs mu held. A signal with nobody waiting is lost.
//
// Go's notify list: wait() draws a ticket (an atomic counter) while it still
// holds mu, then unlocks and parks unless its ticket has been notified
// meanwhile; signal() notifies the oldest un-notified ticket and readies its
// waiter if it has parked (if not, the waiter sees its ticket notified and
// does not park). Tickets make the unlock-then-park window safe without
// holding any lock across the user's mutex. The parked waiters sit in the
// runtime's semaphore table under the cond's address; `notify_` is guarded by
// that table root's lock.
//
// Happens-before comes from mu alone, as in Go.
#pragma once

#include <atomic>
#include <cstdint>
#include "weft/source_location.hpp"

#include "weft/mutex.hpp"

namespace weft {

class cond {
 public:
  explicit cond(mutex& mu) noexcept : mu_(mu) {}
  cond(const cond&) = delete;
  cond& operator=(const cond&) = delete;

  // mu must be locked by the caller (else panic_error("sync: unlock of
  // unlocked mutex") and nothing changes).
  void wait(const weft::source_location& where = weft::source_location::current());
  void signal();
  void broadcast();

  // The bound mutex (Go's c.L).
  mutex& lockable() const noexcept { return mu_; }

 private:
  mutex& mu_;
  std::atomic<std::uint32_t> wait_{0};    // next ticket to hand out
  std::atomic<std::uint32_t> notify_{0};  // next ticket to notify; written under the root lock
};

}  // namespace weft
