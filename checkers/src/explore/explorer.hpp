// explorer — the deterministic scheduler (DESIGN.md, "The one seam").
//
// One OS thread (the caller of explore) runs every goroutine as a fiber; only
// one runs at a time and it runs until its next interleaving point, where the
// strategy picks who runs next (often itself: then nothing switches). A switch
// goes straight from one goroutine to the next; the explorer's own context (g0,
// the caller's stack) runs only when nothing can run, when timers are due, at
// the end of a run and during teardown.
//
// Steps and decisions. Every interleaving point (sched_point, yield, spawn,
// park, goexit) and every clock advance is a step, numbered from 1. A step
// with more than one runnable candidate is a schedule decision; random_below
// (select), choose(n), jitter and the order of timers due at one instant are
// decisions too. Every decision goes into the decision log (decisions()),
// which is the schedule string. Nothing depends on addresses, hash-map order
// or the wall clock: candidates are ordered by goroutine id, ids restart at 1
// every run, timers are ordered by (when, arming order).
//
// Virtual time (Go's testing/synctest): the clock starts at a fixed instant
// and moves only when no goroutine can run, straight to the next timer; every
// timer due at that instant fires then, in an order that is a decision. With
// jitter, each interleaving point while a timer is pending also decides how
// far the clock moves. After main returns the clock stops.
//
// Fairness: a goroutine that yields (or sleeps for no time) is left out of the
// candidates while some other candidate has not run since that yield.
//
// Happens-before: scheduling creates none (the kernel's contract); the one
// edge the explorer states itself is "arming a timer happens before it fires"
// (the firing runs on g0 and may start an after_func goroutine, whose body the
// arming goroutine built).
//
// Invariants:
//  - at most one goroutine is `running`; it is current_g();
//  - runq_ holds exactly the runnable goroutines other than the running one,
//    ascending by id, each once;
//  - a failure (failure_) stops the run: the running goroutine switches to g0
//    at its next safe point, g0 ends the run, teardown force-unwinds every
//    goroutine still alive (destructors run), discards armed timers, and the
//    g's and stacks go back to the pool for the next run.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include "weft/source_location.hpp"
#include <string>
#include <vector>

#include "explore/decision.hpp"
#include "explore/strategies.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/timer_heap.hpp"
#include "weft/check/explore.hpp"

namespace weft::check::detail {

// What issue 5's detectors implement: they see every event of a run (steps,
// parks with their wait objects, wake-ups, resource acquire/release, plain
// accesses, happens-before releases and acquires) and may fail the run through
// explorer::fail().
class observer {
 public:
  virtual ~observer() = default;
  virtual void begin_run() {}
  virtual void on_event(const event& e) = 0;
  // A failure of another kind (a global deadlock, a leak, ...) is being
  // recorded: add evidence to f.found if there is any.
  virtual void explain(failure& f) {}
};

// Which goroutines left blocked when main returned count as leaked
// (options::leaks). Null: every one.
class leak_policy {
 public:
  virtual ~leak_policy() = default;
  virtual bool enabled() const = 0;
  // `s` with the run's trace so far (to name objects as the report will).
  virtual bool ignored(const goroutine_snapshot& s, const std::vector<event>& trace) = 0;
};

struct run_settings {
  std::uint64_t max_steps = 100000;
  std::int64_t jitter_ns = 0;
};

// An object's identity that stays the same from one run to the next (the
// lock-order graph is kept across runs): an object on a goroutine's stack is
// named by that goroutine's lineage (the path of spawn ordinals from main,
// which does not depend on the schedule) and its offset from the stack's top;
// any other object by its address.
struct stable_key {
  std::uint64_t lineage = 0;  // 0: not on a goroutine stack
  std::uint64_t offset = 0;   // from the stack top, or the address
  bool operator==(const stable_key& o) const noexcept { return lineage == o.lineage && offset == o.offset; }
};
struct stable_key_hash {
  std::size_t operator()(const stable_key& k) const noexcept {
    std::uint64_t z = k.lineage * 0x9e3779b97f4a7c15ull ^ (k.offset + 0x632be59bd9b4e019ull);
    z ^= z >> 31;
    return static_cast<std::size_t>(z * 0xbf58476d1ce4e5b9ull);
  }
};

class explorer final : public weft::detail::scheduler {
 public:
  using g = weft::detail::g;

  explicit explorer(std::size_t stack_size);
  ~explorer() override;

  // One run of `body` as the main goroutine, every decision taken by `strat`.
  void run(body_ref body, const weft::source_location& site, strategy_impl& strat, const run_settings& rs);

  // The last run.
  const failure& result() const noexcept { return failure_; }
  const std::vector<decision>& decisions() const noexcept { return decisions_; }
  const std::vector<event>& trace() const noexcept { return trace_; }
  std::uint64_t steps() const noexcept { return steps_; }
  // Steps taken by every run so far.
  std::uint64_t total_steps() const noexcept { return total_steps_; }
  std::int64_t elapsed_ns() const noexcept;
  std::size_t preemptions() const noexcept;

  void add_observer(observer* o) { observers_.push_back(o); }
  void set_leak_policy(leak_policy* p) noexcept { leak_policy_ = p; }

  // Fail the running run (first failure wins). `involved` are goroutine ids.
  void fail(check::kind k, std::string message, std::string signature, std::vector<std::uint32_t> involved,
            const weft::source_location& site = {});
  // The same with a detector's evidence.
  void fail(check::kind k, std::string message, std::string signature, std::vector<std::uint32_t> involved,
            finding found);
  bool failed() const noexcept { return static_cast<bool>(failure_); }
  bool timers_pending() const noexcept { return !timers_.empty(); }

  // Every live goroutine as it is now (what a failure records).
  void snapshot(failure& f);
  // See stable_key. Valid while the object's goroutine (if any) is alive.
  stable_key key_of(const void* obj) const noexcept;

  // The public API's hooks (api.cpp).
  std::uint32_t choose_user(g* self, std::uint32_t n, const weft::source_location& where);
  void record_access(g* self, const void* addr, std::size_t size, bool write, const weft::source_location& where);
  void record_progress(g* self, const weft::source_location& where);
  // [addr, addr + size) begins or ends its life (a shared<T>): fresh memory.
  void record_forget(g* self, const void* addr, std::size_t size);
  void assertion_failed(g* self, std::string message, std::string signature, const weft::source_location& where);
  void note_failure(g* self, check::kind k, std::string message, std::string signature);

  // --- the seam ---
  g* spawn(weft::detail::task fn, const weft::source_location& site, g* parent) override;
  void park(g* self, weft::detail::unlock_fn unlock, void* arg) override;
  void ready(g* gp) noexcept override;
  void yield(g* self) override;
  void goexit(g* self) override;
  void on_panic(g* self, std::exception_ptr e) noexcept override;
  time_point now() noexcept override { return clock_; }
  void timer_start(weft::detail::timer* t, std::shared_ptr<void> keepalive) override;
  bool timer_stop(weft::detail::timer* t) noexcept override;
  bool timer_reset(weft::detail::timer* t, time_point when, duration period,
                   std::shared_ptr<void> keepalive) override;
  void blocking_call(g* self, weft::detail::task fn) override;
  void sched_point(g* self, weft::detail::op o, const void* obj) override;
  std::uint32_t random_below(g* self, std::uint32_t n) override;
  void hb_release(g* self, const void* addr) noexcept override;
  void hb_acquire(g* self, const void* addr) noexcept override;
  void resource_acquired(g* self, const void* res, weft::detail::resource_kind kind,
                         const weft::source_location& where) override;
  void resource_released(g* self, const void* res, weft::detail::resource_kind kind) override;

  // The instant every run starts at (2000-01-01T00:00:00Z as Unix time, as
  // synctest does); reports show time relative to it.
  static constexpr std::int64_t epoch_ns = 946684800LL * 1000000000LL;

 private:
  struct gstate;
  struct holding {
    const void* res;
    weft::detail::resource_kind kind;
    std::uint32_t g;
    weft::source_location site;
  };

  gstate& gs(g* p);
  static std::uint32_t id_of(const g* p) noexcept { return p != nullptr ? static_cast<std::uint32_t>(p->id) : 0; }

  void loop();
  void finish();
  void teardown();
  void execute(g* next);
  void switch_to(g* self, g* next, void (*action)(void*) noexcept = nullptr, void* arg = nullptr);
  void stop_here(g* self);
  void reschedule(g* self);
  void throw_if_unwinding(g* self);
  static void recycle(void* p) noexcept;
  static void run_unlock(void* p) noexcept;
  void timer_armed(weft::detail::timer* t);

  // The next goroutine to run: `self` (running, may continue) plus runq_.
  // Removes the chosen one from runq_.
  g* pick(g* self, g* last);
  // A decision among k options; for a schedule decision the candidates are
  // base[] with `extra` at extra_pos (see decision_point). Returns the index.
  std::uint32_t decide(decision_kind kind, std::uint32_t k, g* by, const std::uint32_t* base = nullptr,
                       std::uint32_t extra = 0, std::uint32_t extra_pos = UINT32_MAX, std::int32_t current = -1,
                       std::uint8_t fingerprint = 0, bool whole = false, bool yielded = false);
  void runq_insert(g* p);
  void runq_erase(g* p);

  void step(g* self, ev type, std::uint8_t code = 0, const void* obj = nullptr,
            const weft::source_location& site = {}, std::uint32_t other = 0);
  void record(const event& e);
  void jitter(g* self);
  bool timers_due() const noexcept;
  void advance_clock();
  void fire_due_timers();

  strategy_impl* strat_ = nullptr;
  bool strat_tracks_runq_ = false;
  std::uint64_t max_steps_ = 0;
  std::int64_t jitter_ns_ = 0;

  weft::detail::context g0_;
  weft::detail::switch_record rec_;

  std::vector<g*> runq_;
  std::vector<std::uint32_t> runq_ids_;  // runq_'s ids, for decisions without pointer chasing
  std::uint64_t runq_hash_ = 0;          // sum of id_hash over runq_ (the set's fingerprint)
  std::uint64_t last_yield_ = 0;         // the step of this run's latest yield (0: none: no fairness work)
  g* cont_ = nullptr;   // a goroutine that went to g0 only so timers could fire; it may continue
  bool advance_ = false;  // a goroutine spins alone in yield: let time pass
  // A park's unlock callback runs in whichever context the switch lands in;
  // while it runs, "the current goroutine" is not the one acting.
  weft::detail::unlock_fn pending_unlock_ = nullptr;
  void* pending_arg_ = nullptr;
  bool unlocking_ = false;
  bool main_done_ = false;
  bool stop_ = false;
  bool tearing_down_ = false;

  std::uint64_t steps_ = 0;
  std::uint64_t g0_steps_ = 0;
  std::uint64_t total_steps_ = 0;  // steps taken by the scheduler itself (clock advances)
  time_point clock_{};
  weft::detail::timer_heap timers_;
  std::vector<weft::detail::timer*> due_;

  std::vector<decision> decisions_;
  std::vector<event> trace_;
  std::vector<holding> holdings_;
  failure failure_;
  std::vector<observer*> observers_;
  leak_policy* leak_policy_ = nullptr;
  // Live goroutine stacks by top address: [bottom, top) and the owner's lineage.
  struct stack_range {
    std::uintptr_t bottom;
    std::uint64_t lineage;
  };
  std::map<std::uintptr_t, stack_range> stacks_live_;
  std::uint64_t g0_children_ = 0;

  // scratch for pick()
  std::vector<g*> cand_;
  std::vector<std::uint32_t> ids_;
  std::vector<g*> todo_;

#if WEFT_TSAN
  char tsan_token_ = 0;  // goroutines release it as they exit; g0 acquires it after a run
#endif
};

}  // namespace weft::check::detail
