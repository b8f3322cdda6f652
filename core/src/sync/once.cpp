// weft::once: Go's sync.Once (sync/once.go). The fast path (an acquire load
// of done_) is inline in once.hpp; this is the slow path, under the mutex.
#include "weft/once.hpp"

#include "sync/sema.hpp"

namespace weft {

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
      o->done_.store(1, std::memory_order_release);
    }
  } done{this};
  invoke(fn);
}

}  // namespace weft
