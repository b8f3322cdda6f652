// The sync primitives' parking queue: Go's runtime semaphore (runtime/sema.go).
//
// A semaphore is a 32-bit token count living in the primitive itself (mutex,
// rw_mutex and wait_group each hold one, as Go's do); the goroutines waiting
// for a token live in a global table of 251 roots keyed by the count's
// address, so a primitive stays a few words and owns no lock of its own.
//
//   sema_acquire(addr): take a token, or queue on addr's root and park until a
//     release wakes us; a woken waiter takes the token again, competing with
//     goroutines arriving meanwhile, unless the release handed it over.
//   sema_release(addr, handoff): wake the first waiter, or with nobody queued
//     add the token to the count. `handoff`: the waiter gets the token
//     directly, so nobody arriving meanwhile can take it.
//
// Go hands off only in mutex starvation mode. Here a handoff is also the
// cheaper wake-up: the release does no add for the waiter and the waiter no
// take when it wakes, two read-modify-writes fewer. So mutex (its woken waiter
// then never loses the token to an arrival and queues again), wait_group
// (nobody else takes its tokens) and rw_mutex's writer hand off. rw_mutex's
// readers do not: their tokens are interchangeable, and a reader arriving
// behind the next writer that takes one runs on instead of parking (Go's
// behaviour, and most of RWMutexRead's throughput).
//
// No lost wake-ups: an acquirer announces itself in the root's nwait
// (seq_cst) before its last look at the count, under the root's lock (both
// in one read-modify-write: root_lock). A releaser that sees nwait == 0 adds
// its token (seq_cst) and then looks at nwait again; so either the acquirer
// sees the token or the releaser sees the waiter. A releaser that sees
// nwait != 0 takes the lock: a waiter queued before is in the queue, one that
// comes after sees, under the lock, the tokens added to the count. The waiter
// parks with the root lock held and the lock is released only once it is off
// its stack (kernel protocol), so a releaser, which dequeues under that lock,
// readies only parked goroutines.
//
// Each root's lock also guards cond's notify list (cond.cpp): its waiters use
// the same queue, keyed by the cond, and carry a ticket.
//
// Root layout: a list of address queues, one per address that has waiters;
// the first waiter of each queue is its entry in that list (Go's treap node,
// here a list: few distinct addresses share a root). Waiter records live in
// the parked goroutines' gs (g::wait_space), not on their stacks: a release
// that wakes many walks dense memory.
#pragma once

#include <atomic>
#include <cstdint>
#include "weft/source_location.hpp"

#include "runtime/g.hpp"
#include "runtime/lock.hpp"
#include "weft/detail/kernel.hpp"

namespace weft::detail {

struct sync_waiter {
  g* gp = nullptr;
  const void* addr = nullptr;
  sync_waiter* prev = nullptr;  // within its address queue
  sync_waiter* next = nullptr;
  // Meaningful only while this waiter heads its address queue.
  sync_waiter* tail = nullptr;
  sync_waiter* prev_addr = nullptr;
  sync_waiter* next_addr = nullptr;
  std::uint32_t ticket = 0;  // cond: the notify ticket waited for
  bool handoff = false;      // sema: the releaser handed us the token
  bool queued = false;
};

// A root's lock and its waiter count (nwait: sema_acquire's waiters queued
// on the root, any address) in one word: bit 0 locked, the rest the count.
// An acquirer that is about to queue takes the lock and counts itself in
// with one read-modify-write, not two: one ~6 ns locked instruction fewer
// per park. While the lock is held only its holder changes the word (a lock
// attempt fails, or sets a bit already set), so unlocking and taking waiters
// off the count are plain stores.
class root_lock {
 public:
  void lock() noexcept {
    if (WEFT_LIKELY((word_.fetch_or(locked, std::memory_order_acquire) & locked) == 0)) return;
    spin_backoff b;
    for (;;) {
      while ((word_.load(std::memory_order_relaxed) & locked) != 0) b.pause();
      if ((word_.fetch_or(locked, std::memory_order_acquire) & locked) == 0) return;
    }
  }
  // Lock, and count one more waiter; seq_cst: the acquirer's half of the
  // handshake (see the top of the file).
  void lock_counted() noexcept {
    std::uint32_t w = word_.load(std::memory_order_relaxed);
    spin_backoff b;
    for (;;) {
      if ((w & locked) != 0) {
        b.pause();
        w = word_.load(std::memory_order_relaxed);
      } else if (word_.compare_exchange_weak(w, w + locked + one_waiter, std::memory_order_seq_cst,
                                             std::memory_order_relaxed)) {
        return;
      }
    }
  }
  void unlock() noexcept {
    word_.store(word_.load(std::memory_order_relaxed) & ~locked, std::memory_order_release);
  }
  // Held: k waiters leave the count.
  void drop_waiters(std::uint32_t k) noexcept {
    word_.store(word_.load(std::memory_order_relaxed) - k * one_waiter, std::memory_order_relaxed);
  }
  std::uint32_t waiters(std::memory_order o) const noexcept { return word_.load(o) / one_waiter; }

 private:
  static constexpr std::uint32_t locked = 1, one_waiter = 2;
  std::atomic<std::uint32_t> word_{0};
};

class alignas(64) sema_root {
 public:
  root_lock lock;

  // All under `lock`.
  void enqueue(sync_waiter* w, const void* addr, bool lifo) noexcept;
  void remove(sync_waiter* w) noexcept;
  sync_waiter* dequeue(const void* addr) noexcept;
  // The first waiter on addr for which pred(w) holds, removed; or null.
  template <class Pred>
  sync_waiter* dequeue_if(const void* addr, Pred pred) noexcept {
    for (sync_waiter* w = head(addr); w != nullptr; w = w->next)
      if (pred(w)) {
        remove(w);
        return w;
      }
    return nullptr;
  }
  // Every waiter on addr, removed, chained through `next` in queue order.
  sync_waiter* take_all(const void* addr) noexcept;
  sync_waiter* head(const void* addr) const noexcept;

 private:
  sync_waiter* heads_ = nullptr;
};

sema_root& sema_root_for(const void* addr) noexcept;

// What had happened to a waiter when its park threw forced_unwind (a
// scheduler tearing down): still queued (now removed); woken by a plain
// release, and it has now taken the token (woken) or another goroutine took it
// first (woken_lost); or handed its token by the release.
enum class sema_unwound : std::uint8_t { queued, woken, woken_lost, handed };

// Take one token from *addr, parking while there is none. `lifo`: queue at the
// front (a waiter that was already woken once and lost). `why`/`obj`/`where`
// describe the wait for dumps and the checkers. If the park throws, the waiter
// is off every queue, *unwound (if given) says how far it had got, and the
// exception propagates.
void sema_acquire(std::atomic<std::uint32_t>* addr, bool lifo, wait_reason why, const void* obj,
                  const weft::source_location& where, sema_unwound* unwound = nullptr);
// Release one token: to addr's first waiter, woken (handed the token if
// `handoff`), or to the count.
void sema_release(std::atomic<std::uint32_t>* addr, bool handoff) noexcept;
// n releases at once: up to n of addr's first waiters woken in queue order,
// the root lock taken once.
void sema_release_n(std::atomic<std::uint32_t>* addr, std::uint32_t n, bool handoff) noexcept;
// Take a token if there is one (Go's cansemacquire).
bool sema_try_acquire(std::atomic<std::uint32_t>* addr) noexcept;

// The park callback: release a root's lock once off the stack.
inline void unlock_root(void* r) noexcept { static_cast<sema_root*>(r)->lock.unlock(); }

// For a goroutine that blocks on a root while being unwound (g::abandon_fn):
// if the tearing-down scheduler abandons it, its waiter leaves the root.
struct abandon_hook {
  sema_root* root;
  sync_waiter* w;
  bool counts_nwait;  // sema_acquire's waiters are counted in nwait
  bool armed = false;
  void arm() noexcept {
    w->gp->abandon_arg = this;
    w->gp->abandon_fn = &leave;
    armed = true;
  }
  // Touches the g only if armed: a woken waiter's g is cold memory when a
  // release wakes many.
  void disarm() noexcept {
    if (armed) w->gp->abandon_fn = nullptr;
  }
  static void leave(void* arg) noexcept;
};

// Internal corruption: print and abort (the third tier of STYLE's error policy).
[[noreturn]] void sync_fatal(const char* what) noexcept;

}  // namespace weft::detail
