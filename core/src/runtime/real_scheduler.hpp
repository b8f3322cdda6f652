// real_scheduler — Go's G/M/P model on OS threads.
//
// One worker (an M with its P) per `procs`, each with a local run queue: a
// 256-slot lock-free ring (owner pushes at the tail and pops at the head,
// thieves CAS the head) plus a `runnext` slot holding the goroutine most
// recently readied by this worker, so a communicate-and-wait pair runs as a
// unit on one core (only the owner touches runnext: a thief asks the owner to
// publish it). Overflow goes to a global queue, checked every 61st
// schedule for fairness. An idle worker spins (at most half the busy workers
// spin at once) stealing half of a random victim's queue, then sleeps on a
// futex; work submitted while nobody spins wakes one sleeper (wakep). A short
// queue on a worker that keeps switching goroutines is left to it, as Go
// leaves runnext (see worth_stealing).
//
// Switching: a parking goroutine switches straight to the next local
// goroutine when there is one (one switch), else to the worker's scheduler
// loop on the thread's own stack (g0). The park's unlock runs in whatever
// context lands, after the parked stack is saved.
//
// Invariants:
//  - a g is in at most one run queue, and only while runnable;
//  - idle_lock_ guards the idle list and each worker's `idle` flag; npidle_
//    equals the idle list's length; a worker announces itself idle before
//    rechecking every queue, and submitters push before checking npidle_ and
//    nmspinning_ (both seq_cst), so a submission is never missed by all;
//  - timers_lock_ guards the timer heap; timers fire under it;
//  - a worker's `preempt` flag is raised by sysmon, once, and lowered by the
//    goroutine on that worker at its next interleaving point, which then
//    yields; while raised it counts in detail::attention.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/scheduler.hpp"
#include "runtime/timer_heap.hpp"

namespace weft::detail {

struct real_options {
  unsigned procs = 0;  // 0: hardware threads
  std::size_t stack_size = 256 * 1024;
  bool report_leaks = true;
  std::chrono::milliseconds shutdown_grace{100};
};

class real_scheduler final : public scheduler {
 public:
  explicit real_scheduler(const real_options& opt);
  ~real_scheduler() override;

  // Runs `main_body` as the main goroutine on the calling thread plus procs-1
  // others; returns once it has returned and the others are torn down.
  // Rethrows what escaped main; throws panic_error on a global deadlock.
  void run_main(task main_body);

  g* spawn(task fn, const weft::source_location& site, g* parent) override;
  void park(g* self, unlock_fn unlock, void* arg) override;
  void ready(g* gp) noexcept override;
  void yield(g* self) override;
  void goexit(g* self) override;
  void on_panic(g* self, std::exception_ptr e) noexcept override;
  time_point now() noexcept override;
  void timer_start(timer* t, std::shared_ptr<void> keepalive) override;
  bool timer_stop(timer* t) noexcept override;
  bool timer_reset(timer* t, time_point when, duration period, std::shared_ptr<void> keepalive) override;
  void blocking_call(g* self, task fn) override;
  std::uint32_t random_below(g* self, std::uint32_t n) override;
  void preempt_point(g* self, op o) override;
  bool spinning_pays(const g* self) const noexcept override;

  unsigned procs() const noexcept { return nprocs_; }

 private:
  struct worker;
  static constexpr std::uint32_t ring_size = 256;

  void worker_loop(worker* w);
  void execute(worker* w, g* gp);
  g* find_runnable(worker* w);
  g* found(worker* w, g* gp);
  bool any_work_visible(const worker* w, bool short_rings) const noexcept;
  void switch_away(worker* w, g* self, void (*action)(void*) noexcept, void* arg);
  void switch_runnable(g* self, void (*requeue)(void*) noexcept);
  void yield_preempted(g* self);  // preempt_point's yield
  worker* this_worker() const noexcept;

  // run queues
  void runq_put(worker* w, g* gp, bool next) noexcept;
  bool runq_put_slow(worker* w, g* gp, std::uint32_t h, std::uint32_t t) noexcept;
  g* runq_get(worker* w) noexcept;
  std::uint32_t runq_grab(worker* victim, g** batch) noexcept;
  g* runq_steal(worker* w, worker* victim) noexcept;
  bool worth_stealing(const worker* victim, int round, std::uint64_t tick_seen) const noexcept;
  std::uint32_t ring_length(const worker* w) const noexcept;
  void request_publish(worker* victim) noexcept;
  void honor_publish(worker* w) noexcept;
  bool runq_empty(const worker* w) const noexcept;
  void prefetch_queued(const worker* w) const noexcept;
  void make_running(worker* w, g* gp) noexcept;
  void global_put(g* gp) noexcept;
  void global_put_batch(g* first, g* last, std::uint32_t n) noexcept;
  g* global_get(worker* w, std::uint32_t max) noexcept;

  // idle workers
  void wakep() noexcept;
  void unidle(worker* w) noexcept;
  void sleep(worker* w);
  void wake_all() noexcept;

  // timers
  void run_timers(worker* w) noexcept;
  bool timers_due() const noexcept;
  void note_new_timer(time_point when) noexcept;
  void refresh_next_timer() noexcept;  // timers_lock_ held

  // sysmon: a monitor thread that asks goroutines running for too long (no
  // switch on their worker for preempt_after) to yield at their next
  // interleaving point. Without it, a goroutine that always finds work (a
  // select that never blocks) would keep its worker forever, and with one
  // worker nothing else — not even a timer — would ever run.
  void sysmon_loop();
  std::thread sysmon_;
  std::atomic<std::uint32_t> sysmon_word_{0};

  // shutdown
  void begin_stop() noexcept;
  void teardown();
  void drain_blocking_pool();

  unsigned nprocs_;
  bool report_leaks_;
  duration shutdown_grace_;
  // Once main has returned: stop when nothing is left to finish, or when the
  // grace timer fires.
  std::atomic<bool> main_done_{false};
  struct grace_timer : timer {
    real_scheduler* s = nullptr;
  } grace_timer_;
  void main_returned() noexcept;
  bool only_grace_timer_left() const noexcept;
  std::vector<std::unique_ptr<worker>> workers_;

  spin_lock global_lock_;
  g* global_head_ = nullptr;
  g* global_tail_ = nullptr;
  std::atomic<std::uint32_t> global_size_{0};

  spin_lock idle_lock_;
  std::vector<worker*> idle_;
  std::atomic<int> npidle_{0};
  std::atomic<int> nmspinning_{0};
  std::atomic<worker*> timed_sleeper_{nullptr};

  mutable spin_lock timers_lock_;
  timer_heap timers_;
  std::atomic<std::int64_t> next_timer_ns_;  // INT64_MAX when none

  std::atomic<bool> stopping_{false};
  std::atomic<bool> deadlock_{false};
  bool tearing_down_ = false;

  // weft::blocking
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::deque<struct blocking_job*> pool_jobs_;
  std::vector<std::thread> pool_threads_;
  int pool_idle_ = 0;
  bool pool_stop_ = false;
  std::atomic<int> blocking_inflight_{0};
  void pool_thread();
};

}  // namespace weft::detail
