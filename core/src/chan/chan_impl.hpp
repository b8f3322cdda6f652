// The channel state machine (Go's hchan), shared by chan.cpp and select.cpp.
//
// States: open | closed;  buffer empty | partial | full (cap 0: always both
// "empty" and "full");  waiters in recvq (receivers) and sendq (senders).
//
// Invariants, checked after every locked section in debug builds:
//  - at most one of recvq and sendq is non-empty (ignoring select waiters that
//    already lost their select and are about to be removed);
//  - recvq non-empty  => buffer empty;   sendq non-empty => buffer full;
//  - closed           => sendq empty (close wakes every sender, who panics);
//  - 0 <= count <= cap, and slots [recvx, recvx+count) hold live elements.
//
// Locking: `lock` guards everything but `refs`. A waiter (Go's sudog) lives in
// its goroutine's g (g::wait_space: a blocked send or recv, or a select of up
// to two cases) or on its stack (larger selects), and is linked into one
// queue; it is only touched under that queue's channel lock. A select links
// one waiter per case; whoever first CASes the select's `done` from 0 to 1
// owns the wake-up (records which waiter fired and readies the goroutine
// once); the others find it done, drop the waiter from their queue and move
// on. The parked goroutine removes the rest itself once woken, under each
// channel's lock.
//
// Happens-before (Go's memory model), stated with hb_release/hb_acquire: a
// buffered element carries edges through its slot address (the k-th receive
// completes before the (k+C)-th send), a rendezvous through the channel address
// (parking party releases, completer acquires and releases, woken party
// acquires), and close releases the channel address for the receivers it
// wakes. Like Go's race detector, the channel address merges all rendezvous on
// one channel.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/g.hpp"
#include "runtime/lock.hpp"
#include "runtime/sanitizers.hpp"
#include "runtime/scheduler.hpp"
#include "weft/detail/chan_core.hpp"

namespace weft::detail {

struct select_state {
  std::atomic<std::uint32_t> done{0};
  struct waiter* fired = nullptr;  // written by the winner before ready()
};

struct waiter {
  g* gp = nullptr;
  void* elem = nullptr;  // send: the value to take; recv: storage to fill
  waiter* prev = nullptr;
  waiter* next = nullptr;
  select_state* sel = nullptr;
  std::uint32_t case_index = 0;
  bool success = false;  // set by the waker: transferred (false: woken by close)
  bool queued = false;
  // Buffered channels: the slot this goroutine passed through when it was
  // handed a value or room, to acquire once it runs, where the waker could
  // not state that edge on its behalf (chan.cpp, handoff_end).
  const void* acquire_on_wake = nullptr;
  // Set before parking: the channel may be gone by the time we wake (its last
  // reference may go with the goroutine that woke us), so it is not read then.
  bool buffered = false;
};

// Happens-before around a park (Go's memory model, as Go's race runtime
// states it). Unbuffered: both sides meet on the channel's own clock (the
// send and the receive each happen before the other completes). Buffered:
// the k-th receive happens before the (k+C)-th send completes, and nothing
// else, so a parked goroutine keeps its clock in its own waiter record (not in
// the channel, where the goroutine waking it would pick it up) and the edges
// go through the buffer slot, as if the value had been queued.
inline const void* park_clock(const void* c, const waiter& w) noexcept {
  return w.buffered ? static_cast<const void*>(&w) : c;
}
inline void acquire_after_wake(const void* c, const waiter& w) noexcept {
  if (!w.buffered || !w.success)
    rt_hb_acquire(c);  // the rendezvous, or the close that woke us
  else if (w.acquire_on_wake != nullptr)
    rt_hb_acquire(w.acquire_on_wake);
}

class waitq {
 public:
  bool empty() const noexcept { return first() == nullptr; }
  // Without the lock (see chan_impl::maybe_ready): a relaxed look at the head.
  bool looks_empty() const noexcept { return first_.load(std::memory_order_acquire) == nullptr; }
  void push(waiter* w) noexcept {
    w->next = nullptr;
    w->prev = last_;
    if (last_ != nullptr)
      last_->next = w;
    else
      first_.store(w, std::memory_order_relaxed);
    last_ = w;
    w->queued = true;
  }
  void remove(waiter* w) noexcept {
    if (!w->queued) return;
    if (w->prev != nullptr)
      w->prev->next = w->next;
    else
      first_.store(w->next, std::memory_order_relaxed);
    if (w->next != nullptr)
      w->next->prev = w->prev;
    else
      last_ = w->prev;
    w->prev = w->next = nullptr;
    w->queued = false;
  }
  // The first waiter that can still be woken, removed from the queue and, for a
  // select, claimed. Waiters of selects that already fired are dropped.
  waiter* dequeue() noexcept {
    while (waiter* w = first()) {
      remove(w);
      if (w->sel != nullptr) {
        std::uint32_t expected = 0;
        if (!w->sel->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
        w->sel->fired = w;
      }
      return w;
    }
    return nullptr;
  }
  // Is there a waiter dequeue() would return? (Under the lock; a select
  // elsewhere may still win it before we dequeue.)
  bool has_live() const noexcept {
    for (waiter* w = first(); w != nullptr; w = w->next)
      if (w->sel == nullptr || w->sel->done.load(std::memory_order_acquire) == 0) return true;
    return false;
  }
  waiter* first() const noexcept { return first_.load(std::memory_order_relaxed); }

 private:
  // Written under the channel lock; atomic only so maybe_ready may peek.
  std::atomic<waiter*> first_{nullptr};
  waiter* last_ = nullptr;
};

class chan_impl : public chan_core {
 public:
  chan_impl(const elem_ops* ops, std::size_t cap, unsigned char* buf) noexcept
      : ops(ops), cap(cap), stride((ops->size + ops->align - 1) / ops->align * ops->align), buf(buf) {}

  const elem_ops* const ops;
  const std::size_t cap;
  const std::size_t stride;
  unsigned char* const buf;

  spin_lock lock;
  std::size_t recvx = 0;
  std::size_t sendx = 0;
  std::atomic<std::size_t> count{0};  // written under lock; read lock-free by len()
  std::atomic<bool> closed{false};  // written under lock; read lock-free by maybe_ready
  waitq recvq;
  waitq sendq;

  void* slot(std::size_t i) const noexcept { return buf + i * stride; }
  std::size_t n() const noexcept { return count.load(std::memory_order_relaxed); }

  // Element moves are the user's code: visible to TSan when a goroutine
  // sends (hb). A timer's send is the runtime's own and stays invisible.
  void move_in(void* dst, void* src, bool visible) const noexcept {
    if (visible) {
      user_section u;
      ops->move_construct(dst, src);
    } else {
      ops->move_construct(dst, src);
    }
  }
  void move_out(void* dst, void* src) const noexcept {
    user_section u;
    ops->move_construct(dst, src);
    ops->destroy(src);
  }

#ifdef NDEBUG
  void check_invariants() const noexcept {}
#else
  void check_invariants() const noexcept;
#endif

  // The non-blocking halves of send and receive, lock held. They return false
  // when the operation would block; a send on a closed channel is reported as
  // `closed` for the caller to panic after unlocking.
  enum class outcome { done, would_block, closed };
  // `hb`: happens-before edges are wanted (TSan build, or the explorer).
  outcome send_locked(void* elem, waiter** to_wake, bool hb) noexcept;
  outcome recv_locked(void* out, waiter** to_wake, bool hb) noexcept;
  // A lock-free look that may say "maybe" when the answer is no, never "no"
  // when an operation could complete (Go's select fast path for a default):
  // for a receive, an empty and still-open channel is not ready, and seeing it
  // empty before seeing it open means both held at once; for a send, an open
  // channel with no room and no receiver.
  bool maybe_ready(bool is_send) const noexcept {
    if (is_send) {
      if (closed.load(std::memory_order_relaxed)) return true;
      return cap == 0 ? !recvq.looks_empty() : count.load(std::memory_order_acquire) < cap;
    }
    // Emptiness first, then closedness: the two loads stay in that order.
    if (cap == 0 ? sendq.looks_empty() : count.load(std::memory_order_acquire) == 0)
      return closed.load(std::memory_order_acquire);
    return true;
  }
  bool send_ready() const noexcept { return closed || recvq.has_live() || n() < cap; }
  bool recv_ready() const noexcept { return sendq.has_live() || n() > 0 || closed; }
};

inline chan_impl* impl(chan_core* c) noexcept { return static_cast<chan_impl*>(c); }

// Whether the goroutine's operations must state happens-before edges.
inline bool hb_wanted(const g* self) noexcept {
  return WEFT_TSAN || (self != nullptr && self->sched->controlled);
}

// The park callback: release the channel lock once off the stack.
inline void unlock_chan(void* c) noexcept { static_cast<chan_impl*>(c)->lock.unlock(); }

}  // namespace weft::detail
