// The park/wake kernel: the only scheduler services a primitive may use.
//
// Every blocking primitive (channels, select, mutex, WaitGroup, cond, context,
// semaphore, timers) is written once on these calls. They dispatch to whichever
// scheduler runs the calling goroutine: the real M:N scheduler, or the explorer
// that owns every interleaving decision. No primitive may ask which one it is.
//
// The protocol (Go's gopark/goready):
//   1. Take the primitive's internal lock, decide to wait, record a waiter (on
//      the goroutine's own stack) where a waker will find it.
//   2. park(reason, obj, unlock, arg, site): the scheduler switches off the
//      goroutine's stack and only then calls unlock(arg). A waker needs that lock
//      to find the waiter, so it can never ready a goroutine still on its stack:
//      no lost and no early wake-ups.
//   3. A waker, holding the lock, claims the waiter (for select: a CAS on the
//      select's state, so exactly one case wins) and calls ready(g) once.
//
// Happens-before: the runtime's own synchronisation is invisible to race
// detectors; each primitive states Go's memory-model edges explicitly with
// hb_release/hb_acquire (TSan annotations on the real scheduler, vector clocks
// under the explorer). Scheduling itself creates no happens-before.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include "weft/source_location.hpp"

#include "weft/clock.hpp"
#include "weft/detail/config.hpp"
#include "weft/detail/task.hpp"

namespace weft::detail {

struct g;  // a goroutine; opaque outside the runtime

// Interleaving points. Under the explorer each one is a scheduling decision and a
// record in the trace; schedule strings carry op_list_version, so changing this
// list (adding, removing or moving a point) must bump it.
#define WEFT_OPS(X)                                                                    \
  X(spawn) X(yield) X(goexit) X(chan_send) X(chan_recv) X(chan_close) X(chan_len)      \
  X(select) X(sleep) X(timer) X(mutex_lock) X(mutex_unlock) X(rw_rlock) X(rw_runlock)  \
  X(rw_lock) X(rw_unlock) X(wg_add) X(wg_wait) X(cond_wait) X(cond_signal)             \
  X(cond_broadcast) X(once) X(sema_acquire) X(sema_release) X(ctx_cancel) X(ctx_done) \
  X(atomic_load) X(atomic_store) X(atomic_rmw) X(shared_read) X(shared_write)          \
  X(pool) X(blocking) X(user)
enum class op : std::uint8_t {
#define WEFT_X(name) name,
  WEFT_OPS(WEFT_X)
#undef WEFT_X
};
inline constexpr unsigned op_list_version = 1;
const char* to_string(op) noexcept;

// Why a goroutine is parked; the text is what a goroutine dump prints (Go's
// waitReason strings where Go has one).
#define WEFT_WAIT_REASONS(X)                                                     \
  X(none, "running") X(chan_send, "chan send") X(chan_recv, "chan receive")      \
  X(chan_send_nil, "chan send (nil chan)") X(chan_recv_nil, "chan receive (nil chan)") \
  X(select, "select") X(select_no_cases, "select (no cases)") X(sleep, "sleep")  \
  X(mutex, "sync.Mutex.Lock") X(rw_rlock, "sync.RWMutex.RLock")                  \
  X(rw_lock, "sync.RWMutex.Lock") X(wait_group, "sync.WaitGroup.Wait")           \
  X(cond, "sync.Cond.Wait") X(once, "sync.Once.Do") X(semaphore, "semaphore.Acquire") \
  X(blocking_call, "blocking call") X(preempted, "runnable")
enum class wait_reason : std::uint8_t {
#define WEFT_X(name, text) name,
  WEFT_WAIT_REASONS(WEFT_X)
#undef WEFT_X
};
const char* to_string(wait_reason) noexcept;

// Non-zero while some scheduler wants to hear about interleaving points,
// happens-before edges and resources: an explorer exists, or a real scheduler
// has asked a goroutine to yield. While it is zero each of those hooks costs a
// load and a branch.
//
// Every hook of every primitive reads it, so it has a 128-byte block to
// itself (two lines: the adjacent-line prefetcher pairs them): a neighbour
// written often would cost each hook a cache miss (a store's retire counter,
// once placed beside it, made every atomic_value borrow miss after a store).
struct alignas(128) attention_word : std::atomic<int> {
  constexpr attention_word() noexcept : std::atomic<int>(0) {}
};
extern attention_word attention;

// The goroutine running on this thread, or null outside every goroutine.
g* current() noexcept;
// The current goroutine, or a panic_error naming `what` when called outside one.
g* require_current(const char* what);
std::uint64_t goroutine_id(const g*) noexcept;
// 0 outside a goroutine.
std::uint64_t current_goroutine_id() noexcept;

using unlock_fn = void (*)(void*) noexcept;

// Block the current goroutine until ready() is called on it. `unlock(arg)` runs
// after the goroutine is off its stack (may be null). `obj` is what it waits on
// (for reports and the wait-for graph); `where` is the user's call site.
void park(wait_reason why, const void* obj, unlock_fn unlock, void* arg,
          const weft::source_location& where);
// Make a parked goroutine runnable. Call exactly once per park.
void ready(g*) noexcept;

void sched_point_slow(op, const void* obj);

// An interleaving point (see op): a scheduling decision under the explorer, a
// preemption point on the real scheduler.
inline void sched_point(op o, const void* obj) {
  if (__builtin_expect(attention.load(std::memory_order_relaxed) != 0, 0)) sched_point_slow(o, obj);
}
// A uniformly random value in [0, n): select's choice among ready cases. Under
// the explorer it is a recorded decision.
std::uint32_t random_below(std::uint32_t n);

// Go memory-model edges on a sync object address: a release makes everything
// the goroutine did so far visible to a later acquire of the same address.
// Only TSan and the explorer listen; otherwise they cost a load and a branch.
void hb_release_slow(const void* addr) noexcept;
void hb_acquire_slow(const void* addr) noexcept;
inline void hb_release(const void* addr) noexcept {
  if (WEFT_TSAN || __builtin_expect(attention.load(std::memory_order_relaxed) != 0, 0)) hb_release_slow(addr);
}
inline void hb_acquire(const void* addr) noexcept {
  if (WEFT_TSAN || __builtin_expect(attention.load(std::memory_order_relaxed) != 0, 0)) hb_acquire_slow(addr);
}
// An acquiring read of obj's state: sched_point(o, obj), read(), then
// hb_acquire(obj), for one load and branch of `attention` (a read of a few
// loads, such as atomic_value's borrow, felt the second one). Whoever sets
// attention does so before its goroutines run, so one that turns it on
// during read() is not listening to this goroutine: skipping its acquire
// loses nothing.
template <class Read>
inline auto acquire_read(op o, const void* obj, Read&& read) {
  if (WEFT_TSAN || __builtin_expect(attention.load(std::memory_order_relaxed) != 0, 0)) {
    sched_point(o, obj);
    auto r = read();
    hb_acquire(obj);
    return r;
  }
  return read();
}

// Ownership of mutex-like resources, for the wait-for graph, lock-order and
// starvation checkers: call right after acquiring and right before releasing.
// Free on the real scheduler.
enum class resource_kind : std::uint8_t { mutex, rw_read, rw_write, semaphore };
void resource_acquired_slow(const void* res, resource_kind kind, const weft::source_location& where);
void resource_released_slow(const void* res, resource_kind kind);
inline void resource_acquired(const void* res, resource_kind kind, const weft::source_location& where) {
  if (__builtin_expect(attention.load(std::memory_order_relaxed) != 0, 0)) resource_acquired_slow(res, kind, where);
}
inline void resource_released(const void* res, resource_kind kind) {
  if (__builtin_expect(attention.load(std::memory_order_relaxed) != 0, 0)) resource_released_slow(res, kind);
}

// Whether busy-waiting a little before parking can pay off (Go's canSpin):
// only with another worker running that could release what we wait for, and
// nothing else queued here. Never under the explorer, where nothing runs while
// we spin.
bool spinning_pays() noexcept;

g* spawn(task fn, const weft::source_location& site);
void yield();
std::size_t num_goroutine() noexcept;
time_point now() noexcept;

// A runtime timer: when due, the scheduler calls fire(t, now) and forgets t
// (a periodic timer is re-armed first). fire runs inside the scheduler, under its
// timer lock: it must not block or start/stop timers; it may ready a goroutine,
// offer a value on a channel (chan_offer) or spawn a goroutine. A timer belongs
// to the scheduler of the goroutine that started it.
//
// `keepalive` is held by the scheduler while the timer is armed and dropped
// (outside its lock) once it has fired, been stopped or been discarded: it
// keeps a heap-allocated timer alive while nobody else refers to it (Go's
// timers live until they fire even when the program drops them).
struct timer {
  time_point when{};
  duration period{};
  void (*fire)(timer*, time_point now) noexcept = nullptr;
  // Called instead of fire when the scheduler shuts down with the timer armed.
  void (*discard)(timer*) noexcept = nullptr;
  // scheduler-private
  std::atomic<void*> owner{nullptr};  // the scheduler while armed
  std::shared_ptr<void> keepalive;
  std::int64_t seq = 0;
  std::int32_t heap_index = -1;
};
void timer_start(timer* t, std::shared_ptr<void> keepalive = {});
// true if the timer was pending and is now stopped (it will not fire).
bool timer_stop(timer* t) noexcept;
// Re-arm (stopping it first if pending); true if it was pending.
bool timer_reset(timer* t, time_point when, duration period, std::shared_ptr<void> keepalive = {});

// Run `fn` on a thread of its own while the goroutine waits, so a blocking
// system call never stalls a worker.
void blocking_call(task fn, const weft::source_location& site);

}  // namespace weft::detail
