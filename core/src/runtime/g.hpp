// struct g — a goroutine, shared by both schedulers.
//
// A g owns a context and a stack for its whole life and is reused for many
// goroutines (Go's gfree list): spawning takes a dead g, gives it a body and
// makes it runnable, so the common spawn allocates nothing and touches no new
// stack page.
//
// Lifecycle: idle (in a free list) -> runnable -> running -> {waiting ->
// runnable -> running}* -> dead -> idle. Only the g itself moves running ->
// waiting/dead; only ready() moves waiting -> runnable, once per park.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include "weft/source_location.hpp"

#include "runtime/context.hpp"
#include "weft/detail/kernel.hpp"
#include "weft/detail/task.hpp"

namespace weft::detail {

class scheduler;

enum class gstatus : std::uint8_t { idle, runnable, running, waiting, dead };

struct g {
  context ctx;
  stack stk;
  scheduler* sched = nullptr;

  // This incarnation.
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  weft::source_location created_at{};
  task fn;
  bool is_main = false;
  bool started = false;  // its body has begun (teardown unwinds it) or not (just dropped)

  // Set by the g itself just before it parks; read by dumps and checkers.
  std::atomic<gstatus> status{gstatus::idle};
  wait_reason reason = wait_reason::none;
  const void* wait_obj = nullptr;
  weft::source_location blocked_at{};

  // Forced unwinding: when set, the g's next park/interleaving point throws
  // forced_unwind so that its destructors run before the g is reclaimed.
  bool unwind_requested = false;
  bool abandoned = false;  // could not be unwound (blocked again in a destructor)
  // Set while blocked during unwinding by code that left a record of this
  // goroutine in a structure outliving the run (the sync primitives' global
  // wait table): called by the scheduler if it abandons the goroutine there,
  // so that the record goes before the g holding it is reused.
  void (*abandon_fn)(void*) noexcept = nullptr;
  void* abandon_arg = nullptr;

#if WEFT_TSAN
  void* spawn_token = nullptr;  // fresh per incarnation: see kernel.cpp's spawn edge
#endif

  // The record of the one wait the goroutine is parked in: the waiter of a
  // blocked channel send or receive, the state and two waiters of a parked
  // select of up to two cases (chan.cpp, select.cpp), or the waiter of a sync
  // primitive or of a semaphore (sema.cpp, cond.cpp, semaphore.cpp). Kept
  // here, on the heap with the other gs, rather than on the goroutine's stack:
  // a close or a release that wakes 100 000 waiters then walks dense memory
  // instead of a page of each stack (docs/runtime.md).
  alignas(std::max_align_t) unsigned char wait_space[144];

  // Scheduler-private.
  g* link = nullptr;      // run queue / free list
  g* all_next = nullptr;  // every g the scheduler holds
  g* all_prev = nullptr;
  void* sched_data = nullptr;
  std::int32_t last_worker = -1;
};

// Builds a T in gp->wait_space for the wait gp is about to park in. The
// record is plain data (nothing to destroy) and is dead once the wait ends.
template <class T>
T& new_wait_record(g* gp) noexcept {
  static_assert(sizeof(T) <= sizeof(g::wait_space) && alignof(T) <= alignof(std::max_align_t));
  static_assert(std::is_trivially_destructible_v<T>);
  return *::new (static_cast<void*>(gp->wait_space)) T;
}

// Thrown at a parked or yielding goroutine whose scheduler is tearing down, so
// its stack unwinds and its destructors run. Deliberately not a std::exception:
// `catch (const std::exception&)` lets it through. A `catch (...)` that
// swallows it leaves the goroutine running; the scheduler then abandons it.
struct forced_unwind {};

// The goroutine running on this thread (the schedulers keep it current).
g* current_g() noexcept;
void set_current_g(g*) noexcept;

}  // namespace weft::detail
