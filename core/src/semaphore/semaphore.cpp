// weft::semaphore on the park/wake kernel.
//
// A waiter record lives in the parked goroutine's g (g::wait_space), in the
// FIFO under the semaphore's lock. Two parties may wake it, each exactly once
// and only after removing it from the queue under that lock: release()
// (granted: the units were added to `cur` for it) and its context's cancel hook
// (cancelled). So whoever dequeues it owns its wake-up, and a waiter already
// dequeued by one is left alone by the other.
//
// Lock order: a context's lock before the semaphore's (the cancel hook runs
// under the context's lock and takes the semaphore's). acquire therefore
// registers its hook before it takes the semaphore's lock to queue, and
// removes it after waking, never holding the semaphore's lock meanwhile.
#include "weft/semaphore.hpp"

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include "context/context_impl.hpp"
#include "runtime/g.hpp"
#include "runtime/lock.hpp"
#include "runtime/sanitizers.hpp"
#include "runtime/scheduler.hpp"
#include "weft/panic.hpp"

namespace weft {

namespace detail {

struct sema_waiter {
  g* gp = nullptr;
  std::int64_t n = 0;
  weighted_sema* s = nullptr;
  sema_waiter* prev = nullptr;
  sema_waiter* next = nullptr;
  sema_waiter* wake_next = nullptr;  // chain of waiters to ready after unlocking
  bool queued = false;
  bool granted = false;   // release() gave it its units
  bool cancelled = false;  // its context was cancelled before it was granted
  cancel_hook hook;
};

struct weighted_sema {
  explicit weighted_sema(std::int64_t n) : size(n) {}

  spin_lock lock;
  const std::int64_t size;
  std::int64_t cur = 0;  // guarded by lock, as is the queue
  sema_waiter* head = nullptr;
  sema_waiter* tail = nullptr;

  void push(sema_waiter* w) noexcept {
    w->prev = tail;
    w->next = nullptr;
    if (tail != nullptr)
      tail->next = w;
    else
      head = w;
    tail = w;
    w->queued = true;
  }
  void remove(sema_waiter* w) noexcept {
    if (w->prev != nullptr)
      w->prev->next = w->next;
    else
      head = w->next;
    if (w->next != nullptr)
      w->next->prev = w->prev;
    else
      tail = w->prev;
    w->prev = w->next = nullptr;
    w->queued = false;
  }
  // Grant units to waiters from the head while the head fits (never past a
  // head that does not: FIFO). Returns them chained through wake_next, to be
  // readied once the lock is released.
  sema_waiter* grant_locked() noexcept {
    sema_waiter* first = nullptr;
    sema_waiter** last = &first;
    while (sema_waiter* w = head) {
      if (size - cur < w->n) break;
      cur += w->n;
      remove(w);
      w->granted = true;
      *last = w;
      last = &w->wake_next;
    }
    return first;
  }
  void check_invariants() const noexcept {
#ifndef NDEBUG
    if (cur < 0 || cur > size) {
      std::fprintf(stderr, "weft: internal error: semaphore holds %lld of %lld\n", static_cast<long long>(cur),
                   static_cast<long long>(size));
      std::abort();
    }
#endif
  }
};

namespace {

void wake_all(sema_waiter* w) noexcept {
  runtime_section rs;  // the records are runtime state, written under the lock
  while (w != nullptr) {
    sema_waiter* next = w->wake_next;  // read first: the record is dead once its goroutine runs
    ready(w->gp);
    w = next;
  }
}

// The waiter's context was cancelled (runs under the context's lock).
void on_cancel(cancel_hook* h, const error&) noexcept {
  auto* w = reinterpret_cast<sema_waiter*>(reinterpret_cast<char*>(h) - offsetof(sema_waiter, hook));
  weighted_sema* s = w->s;
  sema_waiter* woken = nullptr;
  bool wake_self = false;
  {
    lock_guard l(s->lock);
    if (!w->granted) w->cancelled = true;
    if (w->queued) {
      const bool was_head = s->head == w;
      s->remove(w);
      wake_self = true;
      // The head leaving may let the ones behind it through.
      if (was_head && s->size > s->cur) woken = s->grant_locked();
      s->check_invariants();
    }
  }
  // The waiter cannot return before this hook finishes (it removes the hook
  // under the context's lock, which we hold), so w stays valid here.
  if (wake_self) ready(w->gp);
  wake_all(woken);
}

void unlock_sema(void* p) noexcept { static_cast<weighted_sema*>(p)->lock.unlock(); }

[[noreturn]] void negative_weight() { throw panic_error("semaphore: negative weight"); }

// Give back n units without the user-level bookkeeping (interleaving point,
// resource record): for a waiter that got its units but will not keep them.
void give_back(weighted_sema* s, std::int64_t n) noexcept {
  runtime_section rs;
  sema_waiter* woken;
  {
    lock_guard l(s->lock);
    s->cur -= n;
    woken = s->grant_locked();
    s->check_invariants();
  }
  wake_all(woken);
}

}  // namespace

}  // namespace detail

semaphore::semaphore(std::int64_t size) : s_(std::make_unique<detail::weighted_sema>(size)) {
  if (size < 0) detail::negative_weight();
}

semaphore::~semaphore() = default;

std::int64_t semaphore::size() const noexcept { return s_->size; }

error semaphore::acquire(const context& ctx, std::int64_t n, const weft::source_location& where) {
  if (n < 0) detail::negative_weight();
  detail::sched_point(detail::op::sema_acquire, this);
  detail::g* self = detail::require_current("semaphore acquire");
  // ctx done before the call (or while it began) wins even over free units.
  if (error e = ctx.err()) return e;
  detail::weighted_sema* s = s_.get();
  auto take_if_free = [&]() noexcept {  // lock held
    if (s->size - s->cur < n || s->head != nullptr) return false;
    s->cur += n;
    detail::rt_hb_acquire(this);
    return true;
  };
  bool took;
  {
    detail::runtime_section rs;
    detail::lock_guard l(s->lock);
    took = take_if_free();
  }
  if (took) {
    detail::resource_acquired(this, detail::resource_kind::semaphore, where);
    return {};
  }
  if (n > s->size) {
    // Can never fit: do not queue (it would block everyone behind it forever);
    // wait only for ctx, as x/sync does (forever, for a context never done).
    ctx.done().recv(where);
    return ctx.err();
  }

  detail::sema_waiter& w = detail::new_wait_record<detail::sema_waiter>(self);  // see g::wait_space
  w.gp = self;
  w.n = n;
  w.s = s;
  w.hook.fn = &detail::on_cancel;
  // The hook first: its lock (the context's) comes before the semaphore's.
  if (detail::ctx_add_hook(ctx, &w.hook) == detail::hook_result::already_cancelled) return ctx.err();
  bool parked = false;
  {
    detail::runtime_section rs;
    s->lock.lock();
    if (w.cancelled) {  // the hook ran between registering and here
      s->lock.unlock();
    } else if (take_if_free()) {  // freed meanwhile
      s->lock.unlock();
      took = true;
    } else {
      s->push(&w);
      s->check_invariants();
      parked = true;
      try {
        detail::park(detail::wait_reason::semaphore, this, &detail::unlock_sema, s, where);
      } catch (...) {
        // Unwound while parked (the scheduler is tearing down): leave no trace.
        bool had;
        {
          detail::lock_guard l(s->lock);
          if (w.queued) s->remove(&w);
          had = w.granted;
        }
        if (had) detail::give_back(s, n);
        detail::ctx_remove_hook(&w.hook);
        throw;
      }
      took = w.granted;  // else the hook dequeued it: cancelled
    }
  }
  detail::ctx_remove_hook(&w.hook);
  if (!took) return ctx.err();
  if (parked) {
    if (error e = ctx.err()) {
      // Granted, but ctx is done too: x/sync gives the units back and fails.
      detail::give_back(s, n);
      return e;
    }
    detail::hb_acquire(this);
  }
  detail::resource_acquired(this, detail::resource_kind::semaphore, where);
  return {};
}

bool semaphore::try_acquire(std::int64_t n, const weft::source_location& where) {
  if (n < 0) detail::negative_weight();
  detail::sched_point(detail::op::sema_acquire, this);
  detail::weighted_sema* s = s_.get();
  bool ok;
  {
    detail::runtime_section rs;
    detail::lock_guard l(s->lock);
    ok = s->size - s->cur >= n && s->head == nullptr;
    if (ok) {
      s->cur += n;
      detail::rt_hb_acquire(this);
    }
  }
  if (ok) detail::resource_acquired(this, detail::resource_kind::semaphore, where);
  return ok;
}

void semaphore::release(std::int64_t n) {
  if (n < 0) detail::negative_weight();
  detail::sched_point(detail::op::sema_release, this);
  detail::weighted_sema* s = s_.get();
  detail::sema_waiter* woken;
  {
    detail::runtime_section rs;
    detail::lock_guard l(s->lock);
    if (s->cur < n) throw panic_error("semaphore: released more than held");  // cur unchanged
    detail::rt_hb_release(this);
    s->cur -= n;
    woken = s->grant_locked();
    s->check_invariants();
  }
  detail::resource_released(this, detail::resource_kind::semaphore);
  detail::wake_all(woken);
}

}  // namespace weft
