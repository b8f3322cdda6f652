// weft::once: Go's sync.Once (sync/once.go). The fast path (an acquire load
// of done_) is inline in once.hpp; call_observed is the same with the
// interleaving point and edge the explorer and TSan listen for; call_slow runs
// fn under the mutex.
#include "weft/once.hpp"

#include "runtime/g.hpp"
#include "runtime/scheduler.hpp"
#include "sync/sema.hpp"

namespace weft {

void once::call_observed(void (*invoke)(void*), void* fn, weft::source_location where) {
  detail::sched_point(detail::op::once, this);
  if (done_.load(std::memory_order_acquire) != 0) {
    detail::hb_acquire(this);
    return;
  }
  call_slow(invoke, fn, where);
}

void once::call_slow(void (*invoke)(void*), void* fn, const weft::source_location& where) {
  m_.lock_impl(detail::wait_reason::once, this, where);
  struct unlock_on_exit {
    mutex& m;
    ~unlock_on_exit() {
      if (!m.unlock_impl()) detail::sync_fatal("sync: inconsistent Once state");
    }
  } unlock{m_};
  if (done_.load(std::memory_order_acquire) != 0) {
    // Another goroutine ran fn while we waited.
    detail::hb_acquire(this);
    return;
  }
  // Done even if fn throws: Go's Do does not retry. Set before the unlock, so
  // that callers waiting on the mutex see it.
  struct done_on_exit {
    once* o;
    ~done_on_exit() {
      detail::hb_release(o);
      detail::g* self = detail::current();
      const bool watched = self != nullptr && self->sched->controlled;
      o->done_.store(watched ? done_observed : done_unobserved, std::memory_order_release);
    }
  } done{this};
  invoke(fn);
}

}  // namespace weft
