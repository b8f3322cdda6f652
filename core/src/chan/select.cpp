// select: Go's selectgo, with one difference in how the case is picked.
//
// 1. Lock every distinct channel, in address order (so two selects never
//    deadlock on each other's locks).
// 2. Find every ready case. If any, pick one uniformly at random — one
//    random_below(k) call, which the explorer records as a single decision
//    with k alternatives — perform it, unlock, return.
// 3. Else, with a default: unlock, return it.
// 4. Else link a waiter into every case's queue, all pointing at one
//    select_state, and park. The unlock runs off our stack, in reverse lock
//    order, touching nothing of ours after the last unlock: the first channel
//    we lock is the last one released, so we cannot run past step 5's locking
//    until the callback is done with our frame.
// 5. Woken by whoever won the select's `done` CAS: relock everything, unlink
//    the waiters that did not fire, unlock, and report the winner.
#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>

#include "chan/chan_impl.hpp"
#include "weft/panic.hpp"

namespace weft::detail {

namespace {

// What a parked select of up to two cases keeps in g::wait_space.
struct select_space {
  select_state state;
  waiter ws[2];
};

// Small selects (the common case) use arrays on the stack, left uninitialised:
// a select that does not park never constructs a waiter.
template <class T, std::size_t N = 8>
class small_buf {
 public:
  explicit small_buf(std::size_t n) {
    if (n > N) {
      heap_ = std::make_unique<T[]>(n);
      p_ = heap_.get();
    } else {
      p_ = reinterpret_cast<T*>(local_);
    }
  }
  T& operator[](std::size_t i) noexcept { return p_[i]; }
  T* data() noexcept { return p_; }

 private:
  static_assert(std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T>);
  alignas(T) unsigned char local_[N * sizeof(T)];
  std::unique_ptr<T[]> heap_;
  T* p_;
};

// Address order, without duplicates; n is small, so insertion sort.
std::size_t sort_unique(chan_impl** a, std::size_t n) noexcept {
  for (std::size_t i = 1; i < n; ++i)
    for (std::size_t j = i; j > 0 && a[j] < a[j - 1]; --j) std::swap(a[j], a[j - 1]);
  return n == 0 ? 0 : static_cast<std::size_t>(std::unique(a, a + n) - a);
}

struct lock_set {
  chan_impl** chans;  // distinct channels, in address order
  std::size_t n;
  void lock() noexcept {
    for (std::size_t i = 0; i < n; ++i) chans[i]->lock.lock();
  }
  void unlock() noexcept {
    for (std::size_t i = n; i-- > 0;) chans[i]->lock.unlock();
  }
};

void unlock_all(void* p) noexcept {
  // Copy what we need out of the parked goroutine's frame first; after the
  // last unlock (chans[0]) the frame may be gone.
  auto* ls = static_cast<lock_set*>(p);
  chan_impl** chans = ls->chans;
  std::size_t n = ls->n;
  for (std::size_t i = n; i-- > 0;) chans[i]->lock.unlock();
}

}  // namespace

std::size_t select_run(select_case* cases, std::size_t n, bool has_default,
                       const weft::source_location& where) {
  sched_point(op::select, nullptr);
  if (has_default) {
    // Go's fast path: nothing can be ready, so take the default without a lock.
    bool maybe = false;
    for (std::size_t i = 0; i < n && !maybe; ++i)
      maybe = cases[i].c != nullptr && impl(cases[i].c)->maybe_ready(cases[i].is_send);
    if (!maybe) return n;
  }
  g* self = require_current("select");
  const bool hb = hb_wanted(self);
  runtime_section rs;

  small_buf<chan_impl*> order(n);
  std::size_t nchans = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (cases[i].c != nullptr) order[nchans++] = impl(cases[i].c);
  nchans = sort_unique(order.data(), nchans);
  lock_set locks{order.data(), nchans};

  if (nchans == 0 && !has_default) {
    park(wait_reason::select_no_cases, nullptr, nullptr, nullptr, where);
    std::abort();  // nothing can wake it; teardown makes park throw
  }

  small_buf<std::uint32_t> ready_cases(n);
  locks.lock();
  for (;;) {
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto* c = cases[i].c != nullptr ? impl(cases[i].c) : nullptr;
      if (c != nullptr && (cases[i].is_send ? c->send_ready() : c->recv_ready()))
        ready_cases[k++] = static_cast<std::uint32_t>(i);
    }
    if (k == 0) break;
    // One decision among the k ready cases (the explorer records it as such).
    std::uint32_t pick = k == 1 ? 0 : self->sched->random_below(self, static_cast<std::uint32_t>(k));
    select_case& sc = cases[ready_cases[pick]];
    chan_impl* c = impl(sc.c);
    waiter* wake = nullptr;
    auto r = sc.is_send ? c->send_locked(sc.elem, &wake, hb) : c->recv_locked(sc.elem, &wake, hb);
    // A waiter we counted on may have been won by another select meanwhile:
    // then look again.
    if (r == chan_impl::outcome::would_block) continue;
    for (std::size_t i = 0; i < nchans; ++i) order[i]->check_invariants();
    locks.unlock();
    if (wake != nullptr) ready(wake->gp);
    if (sc.is_send && r == chan_impl::outcome::closed) throw panic_error("send on closed channel");
    if (!sc.is_send) sc.recv_ok = r == chan_impl::outcome::done;
    return ready_cases[pick];
  }
  if (has_default) {
    locks.unlock();
    return n;
  }

  // A select of up to two cases (the common one: a context's done() and one
  // channel) keeps its state and waiters in its g, as a blocked send or
  // receive does (chan.cpp): a close that wakes many of them then walks dense
  // memory, not a page of each stack. Larger ones use the stack, or the heap.
  select_space* in_g = n <= 2 ? &new_wait_record<select_space>(self) : nullptr;
  select_state local_state;
  select_state& state = in_g != nullptr ? in_g->state : local_state;
  std::unique_ptr<waiter[]> ws_heap;
  waiter ws_local[4];
  waiter* ws = ws_local;
  if (in_g != nullptr)
    ws = in_g->ws;
  else if (n > 4)
    ws = (ws_heap = std::make_unique<waiter[]>(n)).get();
  for (std::size_t i = 0; i < n; ++i) {
    if (cases[i].c == nullptr) continue;
    waiter& w = ws[i];
    w.gp = self;
    w.elem = cases[i].elem;
    w.sel = &state;
    w.case_index = static_cast<std::uint32_t>(i);
    chan_impl* c = impl(cases[i].c);
    w.buffered = c->cap != 0;
    (cases[i].is_send ? c->sendq : c->recvq).push(&w);
    if (hb) rt_hb_release(park_clock(c, w));
  }
  auto unlink_rest = [&] {
    locks.lock();
    for (std::size_t i = 0; i < n; ++i) {
      if (cases[i].c == nullptr || &ws[i] == state.fired) continue;
      chan_impl* c = impl(cases[i].c);
      (cases[i].is_send ? c->sendq : c->recvq).remove(&ws[i]);
    }
    locks.unlock();
  };
  try {
    park(wait_reason::select, nullptr, &unlock_all, &locks, where);
  } catch (...) {
    unlink_rest();
    if (state.fired != nullptr && state.fired->success && !cases[state.fired->case_index].is_send) {
      user_section u;
      impl(cases[state.fired->case_index].c)->ops->destroy(state.fired->elem);
    }
    throw;
  }
  unlink_rest();
  waiter* w = state.fired;
  select_case& sc = cases[w->case_index];
  if (hb) acquire_after_wake(impl(sc.c), *w);  // the address only
  if (sc.is_send) {
    if (!w->success) throw panic_error("send on closed channel");
  } else {
    sc.recv_ok = w->success;
  }
  return w->case_index;
}

}  // namespace weft::detail
