#include "sync/sema.hpp"

#include <cstdio>
#include <cstdlib>

#include "runtime/sanitizers.hpp"

namespace weft::detail {

namespace {
constexpr std::size_t root_count = 251;  // prime, as Go's semTabSize
constinit sema_root roots[root_count];
}  // namespace

sema_root& sema_root_for(const void* addr) noexcept {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  return roots[(a >> 3) % root_count];
}

sync_waiter* sema_root::head(const void* addr) const noexcept {
  for (sync_waiter* h = heads_; h != nullptr; h = h->next_addr)
    if (h->addr == addr) return h;
  return nullptr;
}

void sema_root::enqueue(sync_waiter* w, const void* addr, bool lifo) noexcept {
  w->addr = addr;
  w->queued = true;
  w->prev = w->next = nullptr;
  sync_waiter* h = head(addr);
  if (h == nullptr) {
    // First waiter on addr: it becomes the address's entry in the root.
    w->tail = w;
    w->prev_addr = nullptr;
    w->next_addr = heads_;
    if (heads_ != nullptr) heads_->prev_addr = w;
    heads_ = w;
    return;
  }
  if (!lifo) {
    w->prev = h->tail;
    h->tail->next = w;
    h->tail = w;
    return;
  }
  // At the front: w takes h's place in the address list.
  w->next = h;
  h->prev = w;
  w->tail = h->tail;
  w->prev_addr = h->prev_addr;
  w->next_addr = h->next_addr;
  if (w->prev_addr != nullptr)
    w->prev_addr->next_addr = w;
  else
    heads_ = w;
  if (w->next_addr != nullptr) w->next_addr->prev_addr = w;
  h->prev_addr = h->next_addr = h->tail = nullptr;
}

void sema_root::remove(sync_waiter* w) noexcept {
  if (!w->queued) return;
  w->queued = false;
  if (w->prev != nullptr) {
    // Not the head: unlink within the address queue.
    w->prev->next = w->next;
    if (w->next != nullptr)
      w->next->prev = w->prev;
    else
      head(w->addr)->tail = w->prev;
    w->prev = w->next = nullptr;
    return;
  }
  // The head: its successor (if any) takes its place in the address list.
  sync_waiter* n = w->next;
  sync_waiter* replacement = n;
  if (n != nullptr) {
    n->prev = nullptr;
    n->tail = w->tail;
    n->prev_addr = w->prev_addr;
    n->next_addr = w->next_addr;
  } else {
    replacement = w->next_addr;
  }
  if (w->prev_addr != nullptr)
    w->prev_addr->next_addr = replacement;
  else
    heads_ = replacement;
  if (n != nullptr) {
    if (n->next_addr != nullptr) n->next_addr->prev_addr = n;
  } else if (w->next_addr != nullptr) {
    w->next_addr->prev_addr = w->prev_addr;
  }
  w->next = w->tail = w->prev_addr = w->next_addr = nullptr;
}

sync_waiter* sema_root::dequeue(const void* addr) noexcept {
  sync_waiter* h = head(addr);
  if (h != nullptr) remove(h);
  return h;
}

sync_waiter* sema_root::take_all(const void* addr) noexcept {
  sync_waiter* h = head(addr);
  if (h == nullptr) return nullptr;
  // Unlink the whole queue from the address list; the chain through `next`
  // stays as it is.
  if (h->prev_addr != nullptr)
    h->prev_addr->next_addr = h->next_addr;
  else
    heads_ = h->next_addr;
  if (h->next_addr != nullptr) h->next_addr->prev_addr = h->prev_addr;
  for (sync_waiter* w = h; w != nullptr; w = w->next) w->queued = false;
  h->tail = h->prev_addr = h->next_addr = nullptr;
  return h;
}

void abandon_hook::leave(void* arg) noexcept {
  auto* h = static_cast<abandon_hook*>(arg);
  lock_guard l(h->root->lock);
  if (!h->w->queued) return;
  h->root->remove(h->w);
  if (h->counts_nwait) h->root->lock.drop_waiters(1);
}

bool sema_try_acquire(std::atomic<std::uint32_t>* addr) noexcept {
  std::uint32_t v = addr->load(std::memory_order_relaxed);
  while (v != 0)
    if (addr->compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed))
      return true;
  return false;
}

void sema_acquire(std::atomic<std::uint32_t>* addr, bool lifo, wait_reason why, const void* obj,
                  const weft::source_location& where, sema_unwound* unwound) {
  runtime_section rs;
  if (sema_try_acquire(addr)) return;
  g* self = require_current(to_string(why));
  sync_waiter& w = new_wait_record<sync_waiter>(self);  // see g::wait_space
  w.gp = self;
  sema_root& r = sema_root_for(addr);
  for (;;) {
    // Announce ourselves before the last look at the count (see the header).
    r.lock.lock_counted();
    if (sema_try_acquire(addr)) {
      r.lock.drop_waiters(1);
      r.lock.unlock();
      return;
    }
    r.enqueue(&w, addr, lifo);
    // Blocking again while being torn down: if the scheduler abandons us here,
    // our record must leave the global table before our g is reused.
    abandon_hook leave{&r, &w, true};
    if (WEFT_UNLIKELY(w.gp->unwind_requested)) leave.arm();
    try {
      park(why, obj, &unlock_root, &r, where);
      leave.disarm();
    } catch (...) {
      leave.disarm();
      lock_guard l(r.lock);
      sema_unwound state = sema_unwound::queued;
      if (w.queued) {
        r.remove(&w);
        r.lock.drop_waiters(1);
      } else if (w.handoff) {
        state = sema_unwound::handed;
      } else {
        state = sema_try_acquire(addr) ? sema_unwound::woken : sema_unwound::woken_lost;
      }
      if (unwound != nullptr) *unwound = state;
      throw;
    }
    if (w.handoff || sema_try_acquire(addr)) return;
    // Woken, but someone else took the token: wait again.
  }
}

void sema_release(std::atomic<std::uint32_t>* addr, bool handoff) noexcept { sema_release_n(addr, 1, handoff); }

void sema_release_n(std::atomic<std::uint32_t>* addr, std::uint32_t n, bool handoff) noexcept {
  if (n == 0) return;
  runtime_section rs;
  sema_root& r = sema_root_for(addr);
  // Nobody waits on this root: the tokens go to the count, and then we look
  // again (the releaser's half of the handshake: add, then look). If someone
  // queued meanwhile it may have missed them: wake it below, handing it a
  // token if asked to and one is still there.
  const bool added = r.lock.waiters(std::memory_order_seq_cst) == 0;
  if (added) {
    addr->fetch_add(n, std::memory_order_seq_cst);
    if (r.lock.waiters(std::memory_order_seq_cst) == 0) return;
  }
  // Otherwise waiters queued before we take the lock are in the queue, and
  // later ones see the count under the lock. Handing off, each of addr's
  // first n waiters gets its token directly (no add for it, and no take when
  // it wakes) and only the tokens nobody waits for go to the count; else all
  // go to the count and the woken waiters take theirs when they run.
  sync_waiter* first = nullptr;
  sync_waiter** link = &first;
  std::uint32_t k = 0;
  r.lock.lock();
  for (; k < n; ++k) {
    sync_waiter* w = r.dequeue(addr);
    if (w == nullptr) break;
    w->handoff = handoff && (!added || sema_try_acquire(addr));
    *link = w;
    link = &w->next;  // free once dequeued: chain the ones to ready
  }
  if (!added) {
    const std::uint32_t left = handoff ? n - k : n;
    if (left != 0) addr->fetch_add(left, std::memory_order_seq_cst);
  }
  if (k != 0) r.lock.drop_waiters(k);
  r.lock.unlock();
  // Each w is parked until ready (it was queued under the lock we held); read
  // its link before readying it, as it may run and return at once.
  for (sync_waiter* w = first; w != nullptr;) {
    sync_waiter* next = w->next;
    ready(w->gp);
    w = next;
  }
}

void sync_fatal(const char* what) noexcept {
  std::fprintf(stderr, "fatal error: %s\n", what);
  std::abort();
}

}  // namespace weft::detail
