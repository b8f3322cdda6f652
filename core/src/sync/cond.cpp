// weft::cond: Go's sync.Cond and its runtime notify list (runtime/sema.go's
// notifyList*). Tickets and invariants are described in cond.hpp.
//
// The waiters park in the semaphore table under the cond's address; that
// root's lock guards notify_ and the queue. wait_ is taken atomically so that
// drawing a ticket needs no lock; a ticket t is notified once notify_ has
// passed it (compared with wrap-around, as Go's less()).
#include "weft/cond.hpp"

#include <exception>

#include "runtime/sanitizers.hpp"
#include "sync/sema.hpp"
#include "weft/panic.hpp"

namespace weft {

using detail::runtime_section;

namespace {
// a < b in ticket order, modulo 2^32.
constexpr bool ticket_less(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) < 0;
}
}  // namespace

void cond::wait(const weft::source_location& where) {
  detail::sched_point(detail::op::cond_wait, this);
  // Go would draw the ticket and then fail to unlock; check first, so that a
  // misuse leaves no ticket that a signal could be spent on.
  if (!mu_.locked()) throw panic_error("sync: unlock of unlocked mutex");
  detail::g* self = detail::require_current("sync.Cond.Wait");
  std::uint32_t ticket;
  {
    runtime_section rs;
    ticket = wait_.fetch_add(1, std::memory_order_acq_rel);
  }
  // Unlock mu. No interleaving point of its own: from the ticket on we are a
  // waiter, whatever runs in between.
  detail::resource_released(&mu_, detail::resource_kind::mutex);
  detail::hb_release(&mu_);
  if (!mu_.unlock_impl()) throw panic_error("sync: unlock of unlocked mutex");

  auto relock = [&] {
    mu_.lock_impl(detail::wait_reason::mutex, &mu_, where);
    detail::hb_acquire(&mu_);
    detail::resource_acquired(&mu_, detail::resource_kind::mutex, where);
  };
  // wait() returns with mu held also when it leaves by an exception (a
  // scheduler tearing down unwinds parked goroutines), so that the caller's
  // unique_lock stays balanced. Relocking happens in a destructor, while the
  // exception is in flight: a park there does not throw again.
  struct relock_if_unwinding {
    decltype(relock)& f;
    int uncaught = std::uncaught_exceptions();
    ~relock_if_unwinding() {
      if (std::uncaught_exceptions() > uncaught) f();
    }
  } guard{relock};
  {
    runtime_section rs;
    detail::sema_root& r = detail::sema_root_for(this);
    r.lock.lock();
    if (ticket_less(ticket, notify_.load(std::memory_order_relaxed))) {
      // Notified between the ticket and now.
      r.lock.unlock();
    } else {
      detail::sync_waiter& w = detail::new_wait_record<detail::sync_waiter>(self);  // see g::wait_space
      w.gp = self;
      w.ticket = ticket;
      r.enqueue(&w, this, false);
      // Blocking again while being torn down: see sema_acquire.
      detail::abandon_hook leave{&r, &w, false};
      if (WEFT_UNLIKELY(self->unwind_requested)) leave.arm();
      try {
        detail::park(detail::wait_reason::cond, this, &detail::unlock_root, &r, where);
        leave.disarm();
      } catch (...) {
        leave.disarm();
        detail::lock_guard l(r.lock);
        r.remove(&w);
        throw;
      }
    }
  }
  relock();
}

void cond::signal() {
  detail::sched_point(detail::op::cond_signal, this);
  runtime_section rs;
  // Fast path: no ticket outstanding, nobody to notify (the signal is lost).
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  detail::sema_root& r = detail::sema_root_for(this);
  r.lock.lock();
  const std::uint32_t t = notify_.load(std::memory_order_relaxed);
  if (t == wait_.load(std::memory_order_acquire)) {
    r.lock.unlock();
    return;
  }
  // Notify ticket t, the oldest outstanding. Its holder may not have parked
  // yet: then it finds its ticket notified and does not park.
  notify_.store(t + 1, std::memory_order_release);
  detail::sync_waiter* w = r.dequeue_if(this, [t](const detail::sync_waiter* s) { return s->ticket == t; });
  r.lock.unlock();
  if (w != nullptr) detail::ready(w->gp);
}

void cond::broadcast() {
  detail::sched_point(detail::op::cond_broadcast, this);
  runtime_section rs;
  if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
  detail::sema_root& r = detail::sema_root_for(this);
  r.lock.lock();
  detail::sync_waiter* all = r.take_all(this);
  notify_.store(wait_.load(std::memory_order_acquire), std::memory_order_release);
  r.lock.unlock();
  while (all != nullptr) {
    detail::sync_waiter* next = all->next;  // read before ready: the record is dead once its goroutine runs
    detail::ready(all->gp);
    all = next;
  }
}

}  // namespace weft
