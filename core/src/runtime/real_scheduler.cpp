#include "runtime/real_scheduler.hpp"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <random>

#include "runtime/fatal.hpp"
#include "weft/panic.hpp"

namespace weft::detail {

struct blocking_job {
  g* gp;
  task fn;
  std::exception_ptr error;
  real_scheduler* sched;
};

struct alignas(64) real_scheduler::worker {
  real_scheduler* s = nullptr;
  int index = 0;
  context g0;
  switch_record rec;

  // Local run queue (see real_scheduler.hpp). head is written by thieves too.
  alignas(64) std::atomic<std::uint32_t> head{0};
  alignas(64) std::atomic<std::uint32_t> tail{0};
  // Written only by the owner (plain loads and stores: no read-modify-write on
  // the ping-pong path); others read it only as a hint. A thief that wants it
  // raises publish_req, and the owner moves it to the ring (where it can be
  // stolen) at its next interleaving point or switch.
  std::atomic<g*> runnext{nullptr};
  std::atomic<bool> publish_req{false};
  std::atomic<g*> ring[ring_size] = {};
  // Bumped at every schedule; a thief takes runnext only from a worker whose
  // tick has not moved for a while (its goroutine is running long).
  std::atomic<std::uint64_t> schedtick{0};

  // Owner only.
  std::uint64_t rng = 0;
  std::uint32_t runnext_streak = 0;
  bool spinning = false;
  g* gfree = nullptr;
  int ngfree = 0;

  // Idle: wake_word is 0 while asleep; 1 = claimed by wakep (spinning, already
  // off the idle list); 2 = just look again.
  std::atomic<std::uint32_t> wake_word{0};
  bool idle = false;  // guarded by idle_lock_
  std::atomic<bool> asleep{false};   // in futex_wait (for sysmon)
  std::atomic<bool> preempt{false};  // sysmon asks the running goroutine to yield
  std::thread thread;

  // Owner-only writer: a load and a store, not a read-modify-write.
  std::uint64_t tick() noexcept {
    std::uint64_t t = schedtick.load(std::memory_order_relaxed);
    schedtick.store(t + 1, std::memory_order_relaxed);
    return t;
  }

  std::uint32_t next_random() noexcept {
    // xorshift64*: fast, and good enough for victim choice and select.
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return static_cast<std::uint32_t>((rng * 0x2545F4914F6CDD1Dull) >> 32);
  }
};

namespace {

thread_local void* tls_worker __attribute__((tls_model("initial-exec"))) = nullptr;

WEFT_NOINLINE void set_tls_worker(void* w) noexcept { tls_worker = w; }

constexpr std::int64_t no_timer = INT64_MAX;
constexpr std::uint32_t runnext_streak_max = 64;
constexpr auto spin_duration = std::chrono::microseconds(50);
// A ring this long is a backlog, stolen from at once (see worth_stealing).
constexpr std::uint32_t steal_backlog = 8;
// An idle worker with busy peers wakes this often to rescue a goroutine left in
// the runnext slot of a worker whose goroutine runs long (no preemption here).
constexpr std::int64_t rescue_interval_ns = 2'000'000;

std::int64_t mono_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Read directly (not through the noinline accessor): no caller of this_worker
// switches goroutines between the read and the use, so a cached TLS address
// cannot go stale here.
real_scheduler::worker* real_scheduler::this_worker() const noexcept {
  auto* w = static_cast<worker*>(tls_worker);
  return (w != nullptr && w->s == this) ? w : nullptr;
}

real_scheduler::real_scheduler(const real_options& opt)
    : scheduler(opt.stack_size, /*controlled=*/false),
      nprocs_(opt.procs != 0 ? opt.procs : std::max(1u, std::thread::hardware_concurrency())),
      report_leaks_(opt.report_leaks),
      shutdown_grace_(opt.shutdown_grace),
      next_timer_ns_(no_timer) {
  std::random_device rd;
  for (unsigned i = 0; i < nprocs_; ++i) {
    auto w = std::make_unique<worker>();
    w->s = this;
    w->index = static_cast<int>(i);
    w->rng = (static_cast<std::uint64_t>(rd()) << 32 | rd()) | 1;
    workers_.push_back(std::move(w));
  }
  idle_.reserve(nprocs_);
}

real_scheduler::~real_scheduler() = default;

// ---------------------------------------------------------------- run queues

void real_scheduler::runq_put(worker* w, g* gp, bool next) noexcept {
  if (next) {
    g* old = w->runnext.load(std::memory_order_relaxed);
    w->runnext.store(gp, std::memory_order_release);
    if (old == nullptr) return;
    gp = old;  // the previous runnext goes to the tail
  }
  for (;;) {
    std::uint32_t h = w->head.load(std::memory_order_acquire);
    std::uint32_t t = w->tail.load(std::memory_order_relaxed);
    if (t - h < ring_size) {
      w->ring[t % ring_size].store(gp, std::memory_order_relaxed);
      w->tail.store(t + 1, std::memory_order_release);
      return;
    }
    if (runq_put_slow(w, gp, h, t)) return;
  }
}

// The ring is full: move half of it, plus gp, to the global queue.
bool real_scheduler::runq_put_slow(worker* w, g* gp, std::uint32_t h, std::uint32_t t) noexcept {
  std::uint32_t n = (t - h) / 2;
  g* batch[ring_size / 2 + 1];
  for (std::uint32_t i = 0; i < n; ++i) batch[i] = w->ring[(h + i) % ring_size].load(std::memory_order_relaxed);
  if (!w->head.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return false;
  batch[n] = gp;
  for (std::uint32_t i = 0; i < n; ++i) batch[i]->link = batch[i + 1];
  global_put_batch(batch[0], batch[n], n + 1);
  return true;
}

g* real_scheduler::runq_get(worker* w) noexcept {
  if (g* nx = w->runnext.load(std::memory_order_relaxed)) {
    // Goroutines that keep readying each other would run from runnext forever
    // and starve the ring (Go bounds this by making runnext inherit the time
    // slice). After runnext_streak_max picks in a row, the ring goes first.
    if (++w->runnext_streak < runnext_streak_max ||
        w->head.load(std::memory_order_relaxed) == w->tail.load(std::memory_order_relaxed)) {
      w->runnext.store(nullptr, std::memory_order_relaxed);
      return nx;
    }
    w->runnext.store(nullptr, std::memory_order_relaxed);
    runq_put(w, nx, false);
  }
  w->runnext_streak = 0;
  for (;;) {
    std::uint32_t h = w->head.load(std::memory_order_acquire);
    std::uint32_t t = w->tail.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    g* gp = w->ring[h % ring_size].load(std::memory_order_relaxed);
    if (w->head.compare_exchange_weak(h, h + 1, std::memory_order_release)) return gp;
  }
}

std::uint32_t real_scheduler::runq_grab(worker* v, g** batch) noexcept {
  for (;;) {
    std::uint32_t h = v->head.load(std::memory_order_acquire);
    std::uint32_t t = v->tail.load(std::memory_order_acquire);
    std::uint32_t n = t - h;
    n -= n / 2;
    if (n == 0) return 0;
    if (n > ring_size / 2) continue;  // h and t read at different times; retry
    for (std::uint32_t i = 0; i < n; ++i) batch[i] = v->ring[(h + i) % ring_size].load(std::memory_order_relaxed);
    if (v->head.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return n;
  }
}

g* real_scheduler::runq_steal(worker* w, worker* v) noexcept {
  g* batch[ring_size / 2];
  std::uint32_t n = runq_grab(v, batch);
  if (n == 0) return nullptr;
  for (std::uint32_t i = 0; i + 1 < n; ++i) runq_put(w, batch[i], false);
  return batch[n - 1];
}

// Go's thief takes from a busy P's queue at once and from its runnext only
// after 3 µs. Here a short ring is treated like runnext: goroutines readied
// together (a writer's unlock releasing its readers, a fan-in's senders) and
// left on the ring of a worker that keeps scheduling will run there within
// microseconds, and moving one to another core only makes them fight over
// the same cache lines (RWMutexReadMostly at procs=2: 42 ns/op when stolen
// at once, 13 ns/op like this; Go: 13). So a thief takes from a ring that has
// backed up (steal_backlog goroutines waiting), or from a victim that has
// not switched goroutines since the thief began looking (it runs something
// long, and its ring would wait). CPU-bound goroutines still spread: a
// victim running one for more than a spin round is stolen from.
bool real_scheduler::worth_stealing(const worker* v, int round, std::uint64_t tick_seen) const noexcept {
  const std::uint32_t waiting = ring_length(v);
  if (waiting == 0) return false;
  if (waiting >= steal_backlog) return true;
  return round > 0 && v->schedtick.load(std::memory_order_relaxed) == tick_seen;
}

// The ring only, as in runq_empty.
std::uint32_t real_scheduler::ring_length(const worker* w) const noexcept {
  return w->tail.load(std::memory_order_acquire) - w->head.load(std::memory_order_acquire);
}

// The ring only: another worker's runnext is not up for grabs (see publish_req).
bool real_scheduler::runq_empty(const worker* w) const noexcept {
  return w->head.load(std::memory_order_acquire) == w->tail.load(std::memory_order_acquire);
}

void real_scheduler::request_publish(worker* v) noexcept {
  if (!v->publish_req.load(std::memory_order_relaxed) && !v->publish_req.exchange(true, std::memory_order_acq_rel))
    attention.fetch_add(1, std::memory_order_relaxed);
}

// The owner answers a publish request: its runnext goes to the ring, and an
// idle worker is woken to take it.
void real_scheduler::honor_publish(worker* w) noexcept {
  if (!w->publish_req.exchange(false, std::memory_order_acq_rel)) return;
  attention.fetch_sub(1, std::memory_order_relaxed);
  if (g* nx = w->runnext.load(std::memory_order_relaxed)) {
    w->runnext.store(nullptr, std::memory_order_relaxed);
    runq_put(w, nx, false);
    wakep();
  }
}

void real_scheduler::global_put(g* gp) noexcept {
  gp->link = nullptr;
  global_put_batch(gp, gp, 1);
}

void real_scheduler::global_put_batch(g* first, g* last, std::uint32_t n) noexcept {
  last->link = nullptr;
  lock_guard l(global_lock_);
  if (global_tail_ != nullptr)
    global_tail_->link = first;
  else
    global_head_ = first;
  global_tail_ = last;
  global_size_.fetch_add(n, std::memory_order_seq_cst);
}

g* real_scheduler::global_get(worker* w, std::uint32_t max) noexcept {
  if (global_size_.load(std::memory_order_relaxed) == 0) return nullptr;
  lock_guard l(global_lock_);
  std::uint32_t size = global_size_.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  std::uint32_t n = std::min(size, size / nprocs_ + 1);
  if (max != 0) n = std::min(n, max);
  n = std::min(n, ring_size / 2);
  global_size_.fetch_sub(n, std::memory_order_relaxed);
  g* gp = global_head_;
  global_head_ = gp->link;
  for (std::uint32_t i = 1; i < n; ++i) {
    g* more = global_head_;
    global_head_ = more->link;
    runq_put(w, more, false);
  }
  if (global_head_ == nullptr) global_tail_ = nullptr;
  gp->link = nullptr;
  return gp;
}

// ---------------------------------------------------------------- idle workers

void real_scheduler::wakep() noexcept {
  if (npidle_.load(std::memory_order_seq_cst) == 0) return;
  if (nmspinning_.load(std::memory_order_seq_cst) != 0) return;
  int expected = 0;
  if (!nmspinning_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) return;
  worker* v = nullptr;
  {
    lock_guard l(idle_lock_);
    if (!idle_.empty()) {
      v = idle_.back();
      idle_.pop_back();
      v->idle = false;
      npidle_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  if (v == nullptr) {
    nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  v->spinning = true;  // published by the release below
  v->wake_word.store(1, std::memory_order_release);
  futex_wake(&v->wake_word, 1);
}

// Leave the idle list after waking on our own (timeout or a "look again").
void real_scheduler::unidle(worker* w) noexcept {
  {
    lock_guard l(idle_lock_);
    if (w->idle) {
      for (auto it = idle_.begin(); it != idle_.end(); ++it)
        if (*it == w) {
          idle_.erase(it);
          break;
        }
      w->idle = false;
      npidle_.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
  }
  // wakep took us off the list concurrently and is about to signal: its claim
  // (and the spinning role) is ours. Only wakep stores 1, and wake_all only
  // turns 0 into 2, so the claim cannot be lost once made.
  while (w->wake_word.load(std::memory_order_acquire) != 1) cpu_relax();
  w->wake_word.store(0, std::memory_order_relaxed);
}

void real_scheduler::wake_all() noexcept {
  for (auto& w : workers_) {
    std::uint32_t z = 0;
    w->wake_word.compare_exchange_strong(z, 2, std::memory_order_acq_rel);
    futex_wake(&w->wake_word, 1);
  }
}

// short_rings: count a busy peer's short ring as work too. Going to sleep,
// it is not: that peer runs it (worth_stealing), and if its goroutine runs
// long, the timed sleeper's rescue round takes it. Deciding that nothing can
// ever run again, it is.
bool real_scheduler::any_work_visible(const worker* w, bool short_rings) const noexcept {
  if (global_size_.load(std::memory_order_seq_cst) != 0) return true;
  for (auto& v : workers_) {
    if (runq_empty(v.get())) continue;
    if (short_rings || v.get() == w) return true;
    if (ring_length(v.get()) >= steal_backlog) return true;
  }
  return timers_due();
}

void real_scheduler::sleep(worker* w) {
  // One idle worker at a time sleeps with a timeout: for the next timer, or to
  // rescue a runnext goroutine stuck behind a long-running one.
  worker* expected = nullptr;
  bool timed = timed_sleeper_.compare_exchange_strong(expected, w, std::memory_order_seq_cst);
  struct timespec ts {};
  struct timespec* timeout = nullptr;
  if (timed) {
    std::int64_t wait_ns = -1;
    std::int64_t nt = next_timer_ns_.load(std::memory_order_seq_cst);
    if (nt != no_timer) wait_ns = std::max<std::int64_t>(0, nt - mono_ns());
    if (npidle_.load(std::memory_order_relaxed) < static_cast<int>(nprocs_) &&
        (wait_ns < 0 || wait_ns > rescue_interval_ns))
      wait_ns = rescue_interval_ns;
    if (wait_ns >= 0) {
      ts.tv_sec = wait_ns / 1'000'000'000;
      ts.tv_nsec = wait_ns % 1'000'000'000;
      timeout = &ts;
    }
  }
  w->asleep.store(true, std::memory_order_relaxed);
  if (!stopping_.load(std::memory_order_acquire)) futex_wait(&w->wake_word, 0, timeout);
  w->asleep.store(false, std::memory_order_relaxed);
  if (timed) {
    worker* self = w;
    timed_sleeper_.compare_exchange_strong(self, nullptr, std::memory_order_seq_cst);
  }
  // One exchange, not a load and then a store: wake_all's "look again" (2)
  // can be followed by wakep's claim (1) at any moment, and a store of 0
  // after reading 2 would erase that claim, leaving unidle to wait for it
  // forever (seen under TSan: a worker stuck at the end of a run).
  if (w->wake_word.exchange(0, std::memory_order_acq_rel) != 1) unidle(w);
  // else claimed by wakep: off the idle list, spinning already set
}

// ---------------------------------------------------------------- scheduling

g* real_scheduler::found(worker* w, g* gp) {
  if (w->spinning) {
    w->spinning = false;
    // The last spinner found work: there may be more, keep one looking.
    if (nmspinning_.fetch_sub(1, std::memory_order_seq_cst) == 1) wakep();
  }
  return gp;
}

g* real_scheduler::find_runnable(worker* w) {
  for (;;) {
    if (stopping_.load(std::memory_order_acquire)) return nullptr;
    run_timers(w);
    std::uint64_t tick = w->tick();
    if (tick % 61 == 0)
      if (g* gp = global_get(w, 1)) return found(w, gp);
    if (g* gp = runq_get(w)) return found(w, gp);
    if (g* gp = global_get(w, 0)) return found(w, gp);

    // Spin, stealing, if few others already do.
    if (!w->spinning) {
      int busy = static_cast<int>(nprocs_) - npidle_.load(std::memory_order_relaxed);
      if (2 * nmspinning_.load(std::memory_order_relaxed) < busy) {
        w->spinning = true;
        nmspinning_.fetch_add(1, std::memory_order_seq_cst);
      }
    }
    if (w->spinning && nprocs_ > 1) {
      std::vector<std::uint64_t> seen(nprocs_);
      for (unsigned i = 0; i < nprocs_; ++i) seen[i] = workers_[i]->schedtick.load(std::memory_order_relaxed);
      const auto until = std::chrono::steady_clock::now() + spin_duration;
      for (int round = 0;; ++round) {
        unsigned start = w->next_random() % nprocs_;
        for (unsigned k = 0; k < nprocs_; ++k) {
          worker* v = workers_[(start + k) % nprocs_].get();
          if (v == w) continue;
          if (worth_stealing(v, round, seen[v->index]))
            if (g* gp = runq_steal(w, v)) return found(w, gp);
          // A goroutine waits in the runnext of a worker that has not
          // scheduled since we started looking: ask for it to be published.
          if (round > 0 && v->runnext.load(std::memory_order_relaxed) != nullptr &&
              v->schedtick.load(std::memory_order_relaxed) == seen[v->index])
            request_publish(v);
        }
        if (g* gp = global_get(w, 0)) return found(w, gp);
        run_timers(w);
        if (g* gp = runq_get(w)) return found(w, gp);
        if (stopping_.load(std::memory_order_acquire)) return nullptr;
        if (std::chrono::steady_clock::now() > until) break;
        for (int i = 0; i < 32; ++i) cpu_relax();
      }
    }

    // Go idle: announce, then look once more (a submitter that saw no idle
    // worker before we announced relies on this look).
    {
      lock_guard l(idle_lock_);
      if (stopping_.load(std::memory_order_acquire)) return nullptr;
      w->idle = true;
      idle_.push_back(w);
      npidle_.fetch_add(1, std::memory_order_seq_cst);
    }
    const bool was_spinning = w->spinning;
    if (was_spinning) {
      w->spinning = false;
      nmspinning_.fetch_sub(1, std::memory_order_seq_cst);
    }
    if (any_work_visible(w, /*short_rings=*/false)) {
      unidle(w);
      if (!w->spinning && was_spinning) {
        w->spinning = true;
        nmspinning_.fetch_add(1, std::memory_order_seq_cst);
      }
      continue;
    }
    // Everyone idle, nothing queued, no timer, no blocking call: no goroutine
    // can ever become runnable again. Before main returns that is a deadlock;
    // after, it means whatever is left is blocked for good: stop now.
    if (npidle_.load(std::memory_order_seq_cst) == static_cast<int>(nprocs_) &&
        blocking_inflight_.load(std::memory_order_seq_cst) == 0 &&
        (next_timer_ns_.load(std::memory_order_seq_cst) == no_timer || only_grace_timer_left()) &&
        !any_work_visible(w, /*short_rings=*/true)) {
      if (!main_done_.load(std::memory_order_acquire)) deadlock_.store(true, std::memory_order_release);
      begin_stop();
      unidle(w);
      return nullptr;
    }
    sleep(w);
  }
}

// gp is about to run on w (from g0 or from the goroutine leaving it).
void real_scheduler::make_running(worker* w, g* gp) noexcept {
  prefetch_queued(w);
  gp->status.store(gstatus::running, std::memory_order_relaxed);
  gp->last_worker = w->index;
  set_current_g(gp);
}

void real_scheduler::execute(worker* w, g* gp) {
  make_running(w, gp);
  switch_context(&w->g0, &gp->ctx, &w->rec);
  set_current_g(nullptr);
}

void real_scheduler::worker_loop(worker* w) {
  runtime_section rs;
  set_tls_worker(w);
  alt_signal_stack alt;  // stack-overflow reports need a stack of their own
  adopt_thread_context(&w->g0);
  while (g* gp = find_runnable(w)) execute(w, gp);
  set_tls_worker(nullptr);
  // Goroutines that ran here may have left thread-local state (a library's
  // TSD) that this thread destroys as it exits: their ends happen before it.
  detail::hb_acquire(this);
}

// Called as a goroutine is about to run: start loading what the ones queued
// behind it will touch first when their turn comes, the saved registers at the
// top of the next one's stack and the g of the one after it (whose stack is
// prefetched in turn at the next switch). Goroutines readied together in bulk
// (a close or a release that wakes 100 000) all have cold stacks, each on a
// page of its own: without this, every switch to one stalls on a TLB miss and
// a cache miss (170–380 ns a goroutine here, by the medians of the
// Blocked100k rows' exit phase; docs/runtime.md). The ring slots are read
// racily (a thief may take them meanwhile): a stale g is still a g (gs are
// recycled, never freed, while the scheduler runs), and a prefetch of a stale
// address is harmless. Under TSan gs are freed on exit, so nothing is
// prefetched there.
void real_scheduler::prefetch_queued(const worker* w) const noexcept {
  if constexpr (recycle_gs) {
    const std::uint32_t h = w->head.load(std::memory_order_relaxed);
    const std::uint32_t n = w->tail.load(std::memory_order_relaxed) - h;
    if (n == 0 || n > ring_size) return;
    const g* first = w->ring[h % ring_size].load(std::memory_order_relaxed);
    // Null if it is running by now (taken by a thief).
    if (const char* sp = static_cast<const char*>(saved_stack_hint(first->ctx))) {
      __builtin_prefetch(sp);
      __builtin_prefetch(sp + 64);  // the saved registers may straddle two lines
    }
    if (n >= 2) __builtin_prefetch(w->ring[(h + 1) % ring_size].load(std::memory_order_relaxed));
  }
}

// Leave the running goroutine `self` for the next local one, or for g0.
void real_scheduler::switch_away(worker* w, g* self, void (*action)(void*) noexcept, void* arg) {
  g* next = nullptr;
  if (WEFT_UNLIKELY(w->publish_req.load(std::memory_order_relaxed))) honor_publish(w);
  if (!stopping_.load(std::memory_order_relaxed) && (w->tick() + 1) % 61 != 0 && !timers_due())
    next = runq_get(w);
  w->rec.action = action;
  w->rec.arg = arg;
  if (next != nullptr) {
    make_running(w, next);
    switch_context(&self->ctx, &next->ctx, &w->rec);
  } else {
    set_current_g(nullptr);
    switch_context(&self->ctx, &w->g0, &w->rec);
  }
  // Resumed, possibly on another worker, which made us current.
}

void real_scheduler::park(g* self, unlock_fn unlock, void* arg) {
  switch_away(workers_[self->last_worker].get(), self, unlock, arg);
}

void real_scheduler::ready(g* gp) noexcept {
  runtime_section rs;
  gp->status.store(gstatus::runnable, std::memory_order_relaxed);
  worker* w = this_worker();
  if (w == nullptr || tearing_down_) {
    global_put(gp);
    wakep();
    return;
  }
  if (current_g() == nullptr) {
    // Readied by the scheduler itself (a timer firing on g0): no goroutine to
    // keep it company, and a batch of timers should wake in firing order, so
    // the tail of the ring, where an idle worker may also take it.
    runq_put(w, gp, false);
    wakep();
    return;
  }
  // The readied goroutine runs next on this worker: a communicate-and-wait
  // pair stays on one core. Only when that displaces an earlier one is there
  // work for another worker.
  if (w->runnext.load(std::memory_order_relaxed) != nullptr) {
    runq_put(w, gp, true);
    wakep();
  } else {
    runq_put(w, gp, true);
  }
}

// Off its stack, `requeue` puts the runnable goroutine back in a queue.
void real_scheduler::switch_runnable(g* self, void (*requeue)(void*) noexcept) {
  self->status.store(gstatus::runnable, std::memory_order_relaxed);
  switch_away(workers_[self->last_worker].get(), self, requeue, self);
}

// Requeued at the tail of this worker's queue.
void real_scheduler::yield(g* self) {
  switch_runnable(self, [](void* p) noexcept {
    g* gp = static_cast<g*>(p);
    auto* s = static_cast<real_scheduler*>(gp->sched);
    worker* cur = s->this_worker();
    if (cur != nullptr && !s->tearing_down_)
      s->runq_put(cur, gp, false);
    else
      s->global_put(gp);
  });
}

// A goroutine that used up its time slice goes to the global queue, as Go's
// preempted ones do: every worker takes from there, so long-running
// goroutines share all workers round-robin. Requeued locally, one on a worker
// of its own would keep that core while the goroutines queued behind another
// worker (too few to be worth stealing) waited a slice each. An idle worker
// is woken for it: this one has its own queue to run first.
void real_scheduler::yield_preempted(g* self) {
  switch_runnable(self, [](void* p) noexcept {
    g* gp = static_cast<g*>(p);
    auto* s = static_cast<real_scheduler*>(gp->sched);
    s->global_put(gp);
    s->wakep();
  });
}

g* real_scheduler::spawn(task fn, const weft::source_location& site, g* parent) {
  worker* w = this_worker();
  g* recycled = nullptr;
  if (w != nullptr && w->gfree != nullptr) {
    recycled = w->gfree;
    w->gfree = recycled->link;
    --w->ngfree;
  }
  g* gp = new_g(std::move(fn), site, parent, recycled);
  if (w == nullptr || tearing_down_) {
    if (tearing_down_) return gp;  // never started; teardown destroys its body
    global_put(gp);
    wakep();
    return gp;
  }
  // Like ready(): the new goroutine runs next on this worker (spawn-and-wait
  // stays on one core); another worker is woken only when that displaces an
  // earlier one into the ring, where it can be stolen (a fan-out). A lone new
  // goroutine behind a spawner that keeps running is published to an idle
  // worker at the spawner's next interleaving point (see publish_req).
  const bool displaces = w->runnext.load(std::memory_order_relaxed) != nullptr;
  runq_put(w, gp, true);
  if (displaces) wakep();
  return gp;
}

void real_scheduler::goexit(g* self) {
  worker* w = workers_[self->last_worker].get();
  self->status.store(gstatus::dead, std::memory_order_relaxed);
  if (self->is_main)
    main_returned();
  else if (main_done_.load(std::memory_order_relaxed) && num_goroutine() == 0)
    begin_stop();
  // Recycle once off its stack: into this worker's cache, else the shared list.
  switch_away(
      w, self,
      [](void* p) noexcept {
        g* gp = static_cast<g*>(p);
        auto* s = static_cast<real_scheduler*>(gp->sched);
        worker* cur = s->this_worker();
        if (recycle_gs && cur != nullptr && cur->ngfree < 64 && !s->tearing_down_) {
          gp->status.store(gstatus::idle, std::memory_order_relaxed);
          gp->link = cur->gfree;
          cur->gfree = gp;
          ++cur->ngfree;
        } else {
          s->free_g(gp);
        }
      },
      self);
  // Reused for a new goroutine.
}

void real_scheduler::on_panic(g* self, std::exception_ptr e) noexcept {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  fatal_goroutine_panic(self, what);
}

bool real_scheduler::spinning_pays(const g* self) const noexcept {
  // Go's canSpin: more than one worker, at least one other of them busy, and
  // no goroutine waiting here that spinning would delay.
  if (nprocs_ <= 1) return false;
  if (static_cast<int>(nprocs_) <= npidle_.load(std::memory_order_relaxed) + nmspinning_.load(std::memory_order_relaxed) + 1)
    return false;
  const worker* w = workers_[self->last_worker].get();
  return w->runnext.load(std::memory_order_relaxed) == nullptr && runq_empty(w);
}

// The interleaving points where a goroutine is about to let go of a lock: it
// still holds it there (the point comes first, so that the explorer can run
// another goroutine against the held lock), and a goroutine preempted there
// would make every one that runs in its slice park on the lock. A pending
// preemption waits for its next point instead (its next lock, before it
// takes it). Go, preempting anywhere, parks them: at procs 1 a mutex taken by
// 4 goroutines then keeps waiters queued, and every lock costs a failed CAS
// and a second one (Mutex4Way).
static bool lets_go_of_a_lock(op o) noexcept {
  return o == op::mutex_unlock || o == op::rw_unlock || o == op::rw_runlock || o == op::sema_release;
}

void real_scheduler::preempt_point(g* self, op o) {
  worker* w = workers_[self->last_worker].get();
  if (w->publish_req.load(std::memory_order_relaxed)) honor_publish(w);
  if (lets_go_of_a_lock(o)) return;
  if (!w->preempt.load(std::memory_order_relaxed) || !w->preempt.exchange(false, std::memory_order_relaxed))
    return;
  attention.fetch_sub(1, std::memory_order_relaxed);
  yield_preempted(self);
}

void real_scheduler::sysmon_loop() {
  runtime_section rs;
  constexpr std::int64_t preempt_after_ns = 10'000'000;  // Go's forcePreemptNS
  std::vector<std::uint64_t> last_tick(nprocs_, ~0ull);
  std::vector<std::int64_t> since(nprocs_, 0);
  while (!stopping_.load(std::memory_order_acquire)) {
    // Every millisecond while some worker is busy; rarely when all sleep.
    const bool all_idle = npidle_.load(std::memory_order_relaxed) == static_cast<int>(nprocs_);
    const std::int64_t wait_ns = all_idle ? 20'000'000 : 1'000'000;
    struct timespec ts {0, static_cast<long>(wait_ns)};
    futex_wait(&sysmon_word_, 0, &ts);
    const std::int64_t t = mono_ns();
    for (unsigned i = 0; i < nprocs_; ++i) {
      worker* w = workers_[i].get();
      std::uint64_t tick = w->schedtick.load(std::memory_order_relaxed);
      if (tick != last_tick[i] || w->asleep.load(std::memory_order_relaxed)) {
        last_tick[i] = tick;
        since[i] = t;
        continue;
      }
      if (t - since[i] >= preempt_after_ns && !w->preempt.load(std::memory_order_relaxed)) {
        attention.fetch_add(1, std::memory_order_relaxed);
        w->preempt.store(true, std::memory_order_relaxed);
        since[i] = t;
      }
    }
  }
}

std::uint32_t real_scheduler::random_below(g* self, std::uint32_t n) {
  worker* w = workers_[self->last_worker].get();
  return n <= 1 ? 0 : static_cast<std::uint32_t>((static_cast<std::uint64_t>(w->next_random()) * n) >> 32);
}

// ---------------------------------------------------------------- time

time_point real_scheduler::now() noexcept { return time_point(duration(mono_ns())); }

bool real_scheduler::timers_due() const noexcept {
  std::int64_t nt = next_timer_ns_.load(std::memory_order_relaxed);
  return nt != no_timer && nt <= mono_ns();
}

void real_scheduler::run_timers(worker* w) noexcept {
  if (!timers_due()) return;
  std::shared_ptr<void> dropped[16];  // released after unlocking: may free the timer
  std::size_t ndropped = 0;
  {
    lock_guard l(timers_lock_);
    const time_point t_now = now();
    while (timer* t = timers_.top()) {
      if (t->when > t_now || ndropped == std::size(dropped)) break;
      timers_.pop();
      if (t->period > duration::zero()) {
        // A ticker that fell behind skips the ticks it missed, as Go's does.
        t->when += t->period;
        if (t->when <= t_now) t->when = t_now + t->period;
        timers_.push(t);
        rt_hb_acquire(t);  // start -> fire, in this worker's own (timer) context
        t->fire(t, t_now);
      } else {
        t->owner.store(nullptr, std::memory_order_release);
        dropped[ndropped++] = std::move(t->keepalive);
        rt_hb_acquire(t);
        t->fire(t, t_now);
      }
    }
    refresh_next_timer();
  }
}

void real_scheduler::refresh_next_timer() noexcept {
  timer* top = timers_.top();
  next_timer_ns_.store(top != nullptr ? top->when.time_since_epoch().count() : no_timer,
                       std::memory_order_seq_cst);
}

void real_scheduler::note_new_timer(time_point when) noexcept {
  // Whoever sleeps with a timeout must recompute it; if nobody does, get a
  // worker spinning (it will become the timed sleeper).
  if (worker* ts = timed_sleeper_.load(std::memory_order_seq_cst)) {
    std::uint32_t z = 0;
    ts->wake_word.compare_exchange_strong(z, 2, std::memory_order_acq_rel);
    futex_wake(&ts->wake_word, 1);
  } else {
    wakep();
  }
}

void real_scheduler::timer_start(timer* t, std::shared_ptr<void> keepalive) {
  bool earliest;
  {
    lock_guard l(timers_lock_);
    t->owner.store(this, std::memory_order_release);
    t->keepalive = std::move(keepalive);
    timers_.push(t);
    earliest = timers_.top() == t;
    refresh_next_timer();
  }
  if (earliest) note_new_timer(t->when);
}

bool real_scheduler::timer_stop(timer* t) noexcept {
  std::shared_ptr<void> dropped;
  lock_guard l(timers_lock_);
  bool was = timers_.remove(t);
  if (was) {
    t->owner.store(nullptr, std::memory_order_release);
    dropped = std::move(t->keepalive);
    refresh_next_timer();
  }
  return was;
}

bool real_scheduler::timer_reset(timer* t, time_point when, duration period, std::shared_ptr<void> keepalive) {
  bool was, earliest;
  std::shared_ptr<void> dropped;
  {
    lock_guard l(timers_lock_);
    was = timers_.remove(t);
    dropped = std::move(t->keepalive);
    t->when = when;
    t->period = period;
    t->owner.store(this, std::memory_order_release);
    t->keepalive = std::move(keepalive);
    timers_.push(t);
    earliest = timers_.top() == t;
    refresh_next_timer();
  }
  if (earliest) note_new_timer(when);
  return was;
}

// ---------------------------------------------------------------- blocking calls

void real_scheduler::blocking_call(g* self, task fn) {
  blocking_job job{self, std::move(fn), nullptr, this};
  detail::hb_release(&job);  // what the goroutine did is visible to the call
  {
    runtime_section rs;
    blocking_inflight_.fetch_add(1, std::memory_order_seq_cst);
    self->reason = wait_reason::blocking_call;
    self->wait_obj = nullptr;
    self->status.store(gstatus::waiting, std::memory_order_release);
    switch_away(
        workers_[self->last_worker].get(), self,
        [](void* p) noexcept {
          auto* j = static_cast<blocking_job*>(p);
          real_scheduler* s = j->sched;
          std::unique_lock<std::mutex> l(s->pool_mu_);
          s->pool_jobs_.push_back(j);
          if (s->pool_idle_ > 0) {
            s->pool_cv_.notify_one();
          } else {
            try {
              s->pool_threads_.emplace_back([s] { s->pool_thread(); });
            } catch (...) {
              // No thread to be had: run it here rather than lose it.
              s->pool_jobs_.pop_back();
              l.unlock();
              {
                user_section u;
                try {
                  j->fn();
                } catch (...) {
                  j->error = std::current_exception();
                }
              }
              s->ready(j->gp);
              s->blocking_inflight_.fetch_sub(1, std::memory_order_seq_cst);
            }
          }
        },
        &job);
    self->reason = wait_reason::none;
  }
  detail::hb_acquire(&job);
  if (job.error) std::rethrow_exception(job.error);
}

void real_scheduler::pool_thread() {
  runtime_section rs;
  std::unique_lock<std::mutex> l(pool_mu_);
  for (;;) {
    while (pool_jobs_.empty() && !pool_stop_) {
      ++pool_idle_;
      pool_cv_.wait(l);
      --pool_idle_;
    }
    if (pool_jobs_.empty()) return;
    blocking_job* j = pool_jobs_.front();
    pool_jobs_.pop_front();
    l.unlock();
    {
      user_section u;
      detail::hb_acquire(j);
      try {
        j->fn();
      } catch (...) {
        j->error = std::current_exception();
      }
      j->fn.reset();
      detail::hb_release(j);
    }
    g* gp = j->gp;
    ready(gp);  // j lives on gp's stack: do not touch it after this
    blocking_inflight_.fetch_sub(1, std::memory_order_seq_cst);
    l.lock();
  }
}

void real_scheduler::drain_blocking_pool() {
  {
    std::lock_guard<std::mutex> l(pool_mu_);
    pool_stop_ = true;
  }
  pool_cv_.notify_all();
  for (auto& t : pool_threads_) t.join();
  pool_threads_.clear();
}

// ---------------------------------------------------------------- run and teardown

void real_scheduler::main_returned() noexcept {
  main_done_.store(true, std::memory_order_seq_cst);
  if (num_goroutine() == 0 || shutdown_grace_ <= duration::zero()) {
    begin_stop();
    return;
  }
  grace_timer_.when = now() + shutdown_grace_;
  grace_timer_.s = this;
  grace_timer_.fire = [](timer* t, time_point) noexcept { static_cast<grace_timer*>(t)->s->begin_stop(); };
  timer_start(&grace_timer_, {});
}

bool real_scheduler::only_grace_timer_left() const noexcept {
  if (!main_done_.load(std::memory_order_acquire)) return false;
  lock_guard l(timers_lock_);
  return timers_.size() == 1 && timers_.top() == &grace_timer_;
}

void real_scheduler::begin_stop() noexcept {
  stopping_.store(true, std::memory_order_seq_cst);
  wake_all();
  sysmon_word_.store(1, std::memory_order_release);
  futex_wake(&sysmon_word_, 1);
}

void real_scheduler::run_main(task main_body) {
  runtime_section rs;
  g* main_g;
  main_g = new_g(std::move(main_body), weft::source_location::current(), nullptr, nullptr);
  main_g->is_main = true;
  global_put(main_g);
  overflow_handler_install();
  std::vector<std::thread> threads;
  try {
    for (unsigned i = 1; i < nprocs_; ++i) {
      worker* w = workers_[i].get();
      threads.emplace_back([this, w] { worker_loop(w); });
    }
  } catch (...) {
    begin_stop();
    for (auto& t : threads) t.join();
    throw;
  }
  try {
    sysmon_ = std::thread([this] { sysmon_loop(); });
  } catch (...) {
    // No monitor thread to be had: the runtime works, without preemption.
  }
  worker_loop(workers_[0].get());
  for (auto& t : threads) t.join();
  if (sysmon_.joinable()) sysmon_.join();
  for (auto& wk : workers_) {
    if (wk->preempt.exchange(false)) attention.fetch_sub(1, std::memory_order_relaxed);
    if (wk->publish_req.exchange(false)) attention.fetch_sub(1, std::memory_order_relaxed);
  }
  teardown();
}

void real_scheduler::teardown() {
  // Every worker has left its loop; from here on this thread alone runs
  // goroutines, and only to unwind them.
  tearing_down_ = true;
  worker* w = workers_[0].get();
  set_tls_worker(w);
  alt_signal_stack alt;
  adopt_thread_context(&w->g0);

  // Blocking calls in flight will ready their goroutines: let them finish first.
  drain_blocking_pool();

  const bool deadlocked = deadlock_.load(std::memory_order_acquire);
  if (deadlocked) {
    std::string dump = dump_goroutines();
    std::fprintf(stderr, "fatal error: all goroutines are asleep - deadlock!\n\n%s", dump.c_str());
  } else if (report_leaks_ && num_goroutine() > 0) {
    std::string dump = dump_goroutines();
    std::fprintf(stderr,
                 "weft: %zu goroutine(s) still alive when main returned (they are unwound now):\n\n%s",
                 num_goroutine(), dump.c_str());
  }

  // Forget the run queues: whatever is runnable is unwound below.
  for (auto& wk : workers_) {
    wk->head.store(0);
    wk->tail.store(0);
    wk->runnext.store(nullptr);
  }
  global_head_ = global_tail_ = nullptr;
  global_size_.store(0);

  // Unwind every goroutine still alive so its destructors run. Unwinding may
  // ready or spawn others, hence the passes; one that blocks again while
  // unwinding waits for a later pass to find it readied (the lock it wants
  // released by another's unwinding), and is abandoned once no pass can run
  // anything.
  for (bool again = true; again;) {
    again = false;
    std::vector<g*> todo;
    for_each_g([&](g* p) {
      auto st = p->status.load(std::memory_order_relaxed);
      if ((st == gstatus::runnable || st == gstatus::waiting) && !p->abandoned) todo.push_back(p);
    });
    for (g* p : todo) {
      if (blocked_while_unwinding(p)) continue;
      again = true;
      if (!p->started) {
        {
          user_section u;
          p->fn.reset();
        }
        goroutine_finished();
        p->status.store(gstatus::dead, std::memory_order_relaxed);
        free_g(p);
        continue;
      }
      p->unwind_requested = true;
      execute(w, p);
    }
    for (auto& wk : workers_) {
      wk->head.store(0);
      wk->tail.store(0);
      wk->runnext.store(nullptr);
    }
    global_head_ = global_tail_ = nullptr;
    global_size_.store(0);
  }

  for_each_g([&](g* p) {
    if (blocked_while_unwinding(p)) abandon(p);
  });
  for_each_g([&](g* p) {
    if (p->abandoned)
      std::fprintf(stderr,
                   "weft: goroutine %llu blocked again (%s) while being unwound at shutdown; its "
                   "stack is released without running the rest of its destructors\n",
                   static_cast<unsigned long long>(p->id), to_string(p->reason));
  });

  // Timers still armed belong to objects that may now be released.
  std::vector<timer*> armed;
  {
    lock_guard l(timers_lock_);
    armed = timers_.take_all();
    next_timer_ns_.store(no_timer);
  }
  for (timer* t : armed) {
    t->owner.store(nullptr, std::memory_order_release);
    std::shared_ptr<void> dropped = std::move(t->keepalive);
    if (t->discard != nullptr) {
      user_section u;
      t->discard(t);
    }
  }
  set_tls_worker(nullptr);

  if (deadlocked) throw panic_error("all goroutines are asleep - deadlock!");
}

}  // namespace weft::detail
