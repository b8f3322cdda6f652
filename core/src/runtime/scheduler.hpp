// The scheduler interface: the one seam between weft's primitives and whoever
// decides what runs (DESIGN.md, "The one seam").
//
// Two implementations: real_scheduler (core/src/runtime, M:N work stealing) and
// the explorer (checkers/src/explore, one thread, a strategy at every choice).
// Primitives never see this class; they call the kernel (weft/detail/kernel.hpp),
// which forwards here through the current goroutine's scheduler.
//
// The base class holds the mechanism both need and that has no policy in it:
// making and recycling g's (context + pooled stack), goroutine ids, the live
// count, the list of every g (for dumps, leak reports and teardown) and the
// goroutine entry point. Everything that is a decision is virtual.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include "weft/source_location.hpp"
#include <string>

#include "runtime/context.hpp"
#include "runtime/g.hpp"
#include "runtime/lock.hpp"
#include "weft/detail/kernel.hpp"

namespace weft::detail {

class scheduler {
 public:
  // controlled: the explorer; sched_point/random/hb calls reach it. The real
  // scheduler leaves them to the kernel's fast paths.
  scheduler(std::size_t stack_size, bool controlled);
  virtual ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  const bool controlled;

  // --- the seam ---
  // Create a goroutine running fn and make it runnable. `parent` is the spawning
  // goroutine (null for main).
  virtual g* spawn(task fn, const weft::source_location& site, g* parent) = 0;
  // Switch away from `self` (the running goroutine, status already waiting);
  // unlock(arg) runs once self is off its stack. Returns when self is readied.
  virtual void park(g* self, unlock_fn unlock, void* arg) = 0;
  virtual void ready(g* gp) noexcept = 0;
  virtual void yield(g* self) = 0;
  // The running goroutine has finished its body; never returns to the caller's
  // frame until self is reused for a new goroutine.
  virtual void goexit(g* self) = 0;
  // An exception escaped a goroutine's body.
  virtual void on_panic(g* self, std::exception_ptr e) noexcept = 0;
  virtual time_point now() noexcept = 0;
  virtual void timer_start(timer* t, std::shared_ptr<void> keepalive) = 0;
  virtual bool timer_stop(timer* t) noexcept = 0;
  virtual bool timer_reset(timer* t, time_point when, duration period, std::shared_ptr<void> keepalive) = 0;
  virtual void blocking_call(g* self, task fn) = 0;
  // Interleaving points, random choices and happens-before edges: only a
  // controlled scheduler is called.
  virtual void sched_point(g* self, op o, const void* obj) {}
  // An uncontrolled scheduler's chance, at an interleaving point of kind o,
  // to make a goroutine that has run too long yield (see real_scheduler's
  // sysmon).
  virtual void preempt_point(g* self, op o) {}
  // See kernel.hpp's spinning_pays(). A scheduler that runs one goroutine at a
  // time (the explorer) keeps the default.
  virtual bool spinning_pays(const g* self) const noexcept { return false; }
  virtual std::uint32_t random_below(g* self, std::uint32_t n) = 0;
  virtual void hb_release(g* self, const void* addr) noexcept {}
  virtual void hb_acquire(g* self, const void* addr) noexcept {}
  virtual void resource_acquired(g* self, const void* res, resource_kind kind,
                                 const weft::source_location& where) {}
  virtual void resource_released(g* self, const void* res, resource_kind kind) {}

  std::size_t num_goroutine() const noexcept { return live_.load(std::memory_order_relaxed); }

  // A human-readable dump of every live goroutine, Go style.
  std::string dump_goroutines(bool include_running = true) const;

 protected:
  // A g ready to run fn: `recycled` (a dead g from the caller's own cache) or
  // one from the shared free list or a new one. Its context is (re)made for a
  // fresh start; the result is runnable but in no run queue.
  g* new_g(task fn, const weft::source_location& site, g* parent, g* recycled);
  // Put a dead g (no longer on any stack) back for reuse.
  void free_g(g* gp) noexcept;
  // Under TSan a g is never reused: TSan cannot be told reliably that a stack's
  // or closure's old accesses belong to a finished goroutine, so reuse would
  // look like races between unrelated goroutines. Fresh memory per goroutine
  // (its stack unmapped at exit) costs speed, which a TSan build does not need.
  static constexpr bool recycle_gs = !WEFT_TSAN;
  // Release every g's stack and context. Only when no g can run again.
  void destroy_all_gs() noexcept;
  // Teardown, once nothing can run: a goroutine that blocked again while
  // being unwound (unwind_requested, waiting) stays blocked for good. Its
  // records in structures that outlive the run go first (abandon_fn).
  static bool blocked_while_unwinding(const g* p) noexcept {
    return p->unwind_requested && !p->abandoned && p->status.load(std::memory_order_relaxed) == gstatus::waiting;
  }
  static void abandon(g* p) noexcept {
    p->abandoned = true;
    if (p->abandon_fn != nullptr) {
      p->abandon_fn(p->abandon_arg);
      p->abandon_fn = nullptr;
    }
  }
  // Every g, for walking (dumps, teardown). Stable while no g is being added.
  template <class F>
  void for_each_g(F&& f) const {
    lock_guard l(all_lock_);
    for (g* p = all_; p != nullptr; p = p->all_next) f(p);
  }
  // The body of every goroutine: runs fn, reports an escaping exception,
  // recycles through goexit.
  static void goroutine_entry(void* arg);
  void goroutine_finished() noexcept { live_.fetch_sub(1, std::memory_order_relaxed); }
  // Number goroutines from 1 again. For the explorer, whose schedules name
  // goroutines by id: every iteration must number them the same way. Only
  // while no goroutine is alive.
  void reset_goroutine_ids() noexcept { next_id_.store(1, std::memory_order_relaxed); }

  stack_pool stacks_;

 private:
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::size_t> live_{0};
  mutable spin_lock all_lock_;
  g* all_ = nullptr;  // doubly linked through all_next/all_prev
  spin_lock free_lock_;
  g* free_ = nullptr;
};

// The scheduler that owns the calling thread's goroutine (or null).
scheduler* current_scheduler() noexcept;

// Happens-before edges from inside runtime code. hb_release/hb_acquire work
// there too (they step out of runtime sections); these names remain for code
// written before that was so.
void rt_hb_release(const void* addr) noexcept;
void rt_hb_acquire(const void* addr) noexcept;

// Go's raceacquireg + racereleaseg: the parked goroutine `other` passes
// through addr at the clock it parked with (acquire, then release), stated by
// the goroutine that wakes it. Only a scheduler that keeps clocks itself (the
// explorer) can; TSan annotates only the running fiber. Returns false where it
// could not, and the caller then states a weaker edge of its own.
bool rt_hb_pass_for(g* other, const void* addr) noexcept;
bool rt_hb_can_pass_for(const g* other) noexcept;

}  // namespace weft::detail
