#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "chan/chan_impl.hpp"
#include "weft/panic.hpp"

namespace weft::detail {

namespace {

[[noreturn]] void park_forever(wait_reason why, const weft::source_location& where) {
  park(why, nullptr, nullptr, nullptr, where);
  // Only a scheduler tearing down resumes a goroutine blocked on nil (park throws).
  std::abort();
}

std::size_t buffer_align(const elem_ops* ops) noexcept {
  return std::max(ops->align, alignof(chan_impl));
}
std::size_t header_size(const elem_ops* ops) noexcept {
  std::size_t a = buffer_align(ops);
  return (sizeof(chan_impl) + a - 1) / a * a;
}

// A buffered handoff to or from the parked goroutine of w, in two halves
// around the copy to or from its storage (Go's racenotify(c, idx, sg): it
// passes through slot sl at the clock it parked with).
// Before the copy: where its edges cannot be stated on its behalf (TSan
// annotates only the running fiber), take its clock (released into its waiter
// record before it parked), so that the copy is ordered after its own writes
// to that storage.
void handoff_begin(waiter* w) noexcept {
  if (!rt_hb_can_pass_for(w->gp)) rt_hb_acquire(w);
}
// After the copy and our own release into sl: w passes through sl on its
// behalf (the explorer: exact), or acquires sl once it runs (TSan: weaker, as
// we were ordered after it, a true race between us may go unreported; never a
// false report).
void handoff_end(waiter* w, void* sl) noexcept {
  if (!rt_hb_pass_for(w->gp, sl)) w->acquire_on_wake = sl;
}

}  // namespace

#ifndef NDEBUG
void chan_impl::check_invariants() const noexcept {
  auto fail = [](const char* what) {
    std::fprintf(stderr, "weft: internal error: channel invariant broken: %s\n", what);
    std::abort();
  };
  if (n() > cap) fail("count > cap");
  if (recvq.has_live() && n() != 0) fail("receivers wait on a non-empty buffer");
  if (sendq.has_live() && n() != cap) fail("senders wait on a buffer with room");
  if (recvq.has_live() && sendq.has_live()) fail("both senders and receivers wait");
  if (closed && sendq.has_live()) fail("senders wait on a closed channel");
}
#endif

chan_impl::outcome chan_impl::send_locked(void* elem, waiter** to_wake, bool hb) noexcept {
  if (closed) return outcome::closed;
  if (waiter* r = recvq.dequeue()) {
    // A receiver is waiting: hand the value straight over (Go does the same).
    if (cap == 0) {
      if (hb) rt_hb_acquire(this);
      move_in(r->elem, elem, hb);
      if (hb) rt_hb_release(this);
    } else {
      // The buffer is empty: as if the value went through the next slot,
      // we first and then the receiver (Go's racenotify, twice).
      void* sl = slot(recvx);
      if (hb) {
        rt_hb_acquire(sl);
        handoff_begin(r);
      }
      move_in(r->elem, elem, hb);
      if (hb) {
        rt_hb_release(sl);
        handoff_end(r, sl);
      }
      recvx = recvx + 1 == cap ? 0 : recvx + 1;
      sendx = recvx;
    }
    r->success = true;
    *to_wake = r;
    return outcome::done;
  }
  if (n() < cap) {
    void* s = slot(sendx);
    if (hb) rt_hb_acquire(s);
    move_in(s, elem, hb);
    if (hb) rt_hb_release(s);
    sendx = sendx + 1 == cap ? 0 : sendx + 1;
    count.store(n() + 1, std::memory_order_relaxed);
    return outcome::done;
  }
  return outcome::would_block;
}

chan_impl::outcome chan_impl::recv_locked(void* out, waiter** to_wake, bool hb) noexcept {
  if (waiter* s = sendq.dequeue()) {
    if (cap == 0) {
      if (hb) rt_hb_acquire(this);
      move_in(out, s->elem, hb);
      if (hb) rt_hb_release(this);
    } else {
      // Full buffer: take the oldest, and the waiting sender's value takes its
      // place at the tail (which is the same slot).
      // Our receive (the k-th) happens before that sender's send (the
      // (k+C)-th) completes, through the slot; the sender's clock goes with
      // its value into the slot.
      void* sl = slot(recvx);
      if (hb) rt_hb_acquire(sl);
      move_out(out, sl);
      if (hb) handoff_begin(s);
      move_in(sl, s->elem, hb);
      if (hb) {
        rt_hb_release(sl);
        handoff_end(s, sl);
      }
      recvx = recvx + 1 == cap ? 0 : recvx + 1;
      sendx = recvx;
    }
    s->success = true;
    *to_wake = s;
    return outcome::done;
  }
  if (n() > 0) {
    void* sl = slot(recvx);
    if (hb) rt_hb_acquire(sl);
    move_out(out, sl);
    if (hb) rt_hb_release(sl);
    recvx = recvx + 1 == cap ? 0 : recvx + 1;
    count.store(n() - 1, std::memory_order_relaxed);
    return outcome::done;
  }
  if (closed) {
    if (hb) rt_hb_acquire(this);
    return outcome::closed;
  }
  return outcome::would_block;
}

chan_core* chan_make(const elem_ops* ops, std::size_t cap) {
  runtime_section rs;
  const std::size_t stride = (ops->size + ops->align - 1) / ops->align * ops->align;
  const std::size_t max_bytes = std::size_t(1) << 40;
  if (stride != 0 && cap > max_bytes / stride)
    throw panic_error("makechan: size out of range");
  const std::size_t hdr = header_size(ops);
  const std::size_t total = hdr + cap * stride;
  void* mem = ::operator new(total, std::align_val_t(buffer_align(ops)));
  auto* buf = cap != 0 ? static_cast<unsigned char*>(mem) + hdr : nullptr;
  return ::new (mem) chan_impl(ops, cap, buf);
}

void chan_destroy(chan_core* core) noexcept {
  chan_impl* c = impl(core);
  runtime_section rs;
  std::size_t i = c->recvx;
  for (std::size_t k = c->n(); k > 0; --k) {
    user_section u;
    c->ops->destroy(c->slot(i));
    i = i + 1 == c->cap ? 0 : i + 1;
  }
  auto al = static_cast<std::align_val_t>(buffer_align(c->ops));
  c->~chan_impl();
  ::operator delete(static_cast<void*>(c), al);
}

void chan_send(chan_core* core, void* elem, const weft::source_location& where) {
  sched_point(op::chan_send, core);
  if (core == nullptr) park_forever(wait_reason::chan_send_nil, where);
  chan_impl* c = impl(core);
  g* self = require_current("chan send");
  const bool hb = hb_wanted(self);
  runtime_section rs;
  c->lock.lock();
  waiter* wake = nullptr;
  switch (c->send_locked(elem, &wake, hb)) {
    case chan_impl::outcome::done:
      c->check_invariants();
      c->lock.unlock();
      if (wake != nullptr) ready(wake->gp);
      return;
    case chan_impl::outcome::closed:
      c->lock.unlock();
      throw panic_error("send on closed channel");
    case chan_impl::outcome::would_block:
      break;
  }
  waiter& w = new_wait_record<waiter>(self);  // see g::wait_space
  w.gp = self;
  w.elem = elem;
  w.buffered = c->cap != 0;
  c->sendq.push(&w);
  c->check_invariants();
  if (hb) rt_hb_release(park_clock(c, w));
  try {
    park(wait_reason::chan_send, c, &unlock_chan, c, where);
  } catch (...) {
    lock_guard l(c->lock);
    c->sendq.remove(&w);
    throw;
  }
  if (hb) acquire_after_wake(c, w);
  if (!w.success) throw panic_error("send on closed channel");
}

bool chan_try_send(chan_core* core, void* elem) {
  sched_point(op::chan_send, core);
  if (core == nullptr) return false;
  chan_impl* c = impl(core);
  if (!c->maybe_ready(true)) return false;
  const bool hb = hb_wanted(current_g());
  runtime_section rs;
  c->lock.lock();
  waiter* wake = nullptr;
  auto r = c->send_locked(elem, &wake, hb);
  c->check_invariants();
  c->lock.unlock();
  if (r == chan_impl::outcome::closed) throw panic_error("send on closed channel");
  if (wake != nullptr) ready(wake->gp);
  return r == chan_impl::outcome::done;
}

bool chan_offer(chan_core* core, void* elem) noexcept {
  if (core == nullptr) return false;
  chan_impl* c = impl(core);
  runtime_section rs;
  c->lock.lock();
  waiter* wake = nullptr;
  // Runs in a worker's own context, which acquired the timer's start: the
  // edge start -> receive is Go's.
  auto r = c->closed ? chan_impl::outcome::closed : c->send_locked(elem, &wake, hb_wanted(current_g()));
  c->lock.unlock();
  if (wake != nullptr) ready(wake->gp);
  return r == chan_impl::outcome::done;
}

bool chan_recv(chan_core* core, void* out, const weft::source_location& where) {
  sched_point(op::chan_recv, core);
  if (core == nullptr) park_forever(wait_reason::chan_recv_nil, where);
  chan_impl* c = impl(core);
  g* self = require_current("chan receive");
  const bool hb = hb_wanted(self);
  runtime_section rs;
  c->lock.lock();
  waiter* wake = nullptr;
  switch (c->recv_locked(out, &wake, hb)) {
    case chan_impl::outcome::done:
      c->check_invariants();
      c->lock.unlock();
      if (wake != nullptr) ready(wake->gp);
      return true;
    case chan_impl::outcome::closed:
      c->lock.unlock();
      return false;
    case chan_impl::outcome::would_block:
      break;
  }
  waiter& w = new_wait_record<waiter>(self);  // see g::wait_space
  w.gp = self;
  w.elem = out;
  w.buffered = c->cap != 0;
  c->recvq.push(&w);
  c->check_invariants();
  if (hb) rt_hb_release(park_clock(c, w));
  try {
    park(wait_reason::chan_recv, c, &unlock_chan, c, where);
  } catch (...) {
    {
      lock_guard l(c->lock);
      c->recvq.remove(&w);
    }
    if (w.success) {
      user_section u;
      c->ops->destroy(out);
    }
    throw;
  }
  if (hb) acquire_after_wake(c, w);
  return w.success;
}

try_recv_result chan_try_recv(chan_core* core, void* out) {
  sched_point(op::chan_recv, core);
  if (core == nullptr) return try_recv_result::empty;
  chan_impl* c = impl(core);
  if (!c->maybe_ready(false)) return try_recv_result::empty;
  const bool hb = hb_wanted(current_g());
  runtime_section rs;
  c->lock.lock();
  waiter* wake = nullptr;
  auto r = c->recv_locked(out, &wake, hb);
  c->check_invariants();
  c->lock.unlock();
  if (wake != nullptr) ready(wake->gp);
  switch (r) {
    case chan_impl::outcome::done:
      return try_recv_result::received;
    case chan_impl::outcome::closed:
      return try_recv_result::closed;
    default:
      return try_recv_result::empty;
  }
}

void chan_close(chan_core* core, const weft::source_location& where) {
  sched_point(op::chan_close, core);
  if (core == nullptr) throw panic_error("close of nil channel");
  chan_impl* c = impl(core);
  const bool hb = hb_wanted(current_g());
  runtime_section rs;
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    throw panic_error("close of closed channel");
  }
  c->closed.store(true, std::memory_order_release);
  if (hb) rt_hb_release(c);
  // Collect every waiter (chained through `next`, free once dequeued), then
  // wake them outside the lock.
  waiter* woken = nullptr;
  while (waiter* w = c->recvq.dequeue()) {
    w->success = false;
    w->next = woken;
    woken = w;
  }
  while (waiter* w = c->sendq.dequeue()) {
    w->success = false;
    w->next = woken;
    woken = w;
  }
  c->check_invariants();
  c->lock.unlock();
  while (woken != nullptr) {
    waiter* next = woken->next;  // read before ready(): the waiter dies with its frame
    ready(woken->gp);
    woken = next;
  }
}

std::size_t chan_len(chan_core* core) {
  runtime_section rs;
  sched_point(op::chan_len, core);
  return core == nullptr ? 0 : impl(core)->n();
}

std::size_t chan_cap(const chan_core* core) noexcept {
  return core == nullptr ? 0 : static_cast<const chan_impl*>(core)->cap;
}

}  // namespace weft::detail
