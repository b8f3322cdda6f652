#include "explore/explorer.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <typeinfo>

#include "runtime/fatal.hpp"
#include "runtime/g.hpp"
#include "runtime/sanitizers.hpp"
#include "weft/panic.hpp"

namespace weft::check::detail {

using weft::detail::gstatus;
using weft::detail::op;
using weft::detail::runtime_section;
using weft::detail::user_section;
using weft::detail::wait_reason;

namespace {

constexpr auto relaxed = std::memory_order_relaxed;

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string s = status == 0 && d != nullptr ? d : name;
  std::free(d);
  return s;
}

bool alive(gstatus s) noexcept {
  return s == gstatus::runnable || s == gstatus::running || s == gstatus::waiting;
}

}  // namespace

// Per-goroutine explorer state, kept with the g across reuse (reset at spawn).
struct explorer::gstate {
  std::uint64_t local_steps = 0; // steps this goroutine has taken
  std::uint64_t last_run = 0;    // the step at which it was last chosen to run
  std::uint64_t yielded_at = 0;  // the step of its last yield (fairness)
  const void* last_obj = nullptr;
  op last_op = op::spawn;
  bool has_last_op = false;
  bool abandon_counted = false;
  std::uint64_t lineage = 0;     // see stable_key
  std::uint64_t children = 0;    // goroutines it has spawned
};

namespace {

// A child's lineage from its parent's and its spawn ordinal; never 0.
std::uint64_t child_lineage(std::uint64_t parent, std::uint64_t ordinal) noexcept {
  std::uint64_t z = parent * 0x100000001b3ull + ordinal + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return z != 0 ? z : 1;
}

}  // namespace

explorer::explorer(std::size_t stack_size) : scheduler(stack_size, /*controlled=*/true) {
  weft::detail::overflow_handler_install();
#if WEFT_TSAN
  // libstdc++ counts references (shared_ptr, locale, ...) without atomics
  // while glibc says the process has never had a second thread
  // (__libc_single_threaded). Right for one OS thread, but TSan sees each
  // goroutine as a thread and those plain increments as races. A thread once
  // created makes the process multi-threaded for good.
  static std::once_flag once;
  std::call_once(once, [] { std::thread([] {}).join(); });
#endif
  decisions_.reserve(256);
  trace_.reserve(1024);
  runq_.reserve(16);
  cand_.reserve(16);
  ids_.reserve(16);
}

explorer::~explorer() {
  runtime_section rs;
  for_each_g([](g* p) {
    delete static_cast<gstate*>(p->sched_data);
    p->sched_data = nullptr;
  });
}

explorer::gstate& explorer::gs(g* p) {
  if (p->sched_data == nullptr) p->sched_data = new gstate;
  return *static_cast<gstate*>(p->sched_data);
}

std::int64_t explorer::elapsed_ns() const noexcept { return clock_.time_since_epoch().count() - epoch_ns; }

std::size_t explorer::preemptions() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(decisions_.begin(), decisions_.end(), [](const decision& d) { return d.preemption(); }));
}

// ------------------------------------------------------------------ a run

void explorer::run(body_ref body, const weft::source_location& site, strategy_impl& strat, const run_settings& rs) {
  runtime_section sec;
  strat_ = &strat;
  strat_tracks_runq_ = strat.tracks_runq();
  max_steps_ = rs.max_steps;
  jitter_ns_ = rs.jitter_ns;
  runq_.clear();
  runq_ids_.clear();
  runq_hash_ = 0;
  last_yield_ = 0;
  cont_ = nullptr;
  advance_ = false;
  main_done_ = false;
  stop_ = false;
  tearing_down_ = false;
  steps_ = 0;
  g0_steps_ = 0;
  clock_ = time_point(duration(epoch_ns));
  decisions_.clear();
  trace_.clear();
  holdings_.clear();
  failure_ = failure{};
  reset_goroutine_ids();
  for (observer* o : observers_) o->begin_run();

  static thread_local weft::detail::alt_signal_stack alt;  // for stack-overflow reports
  (void)alt;
  weft::detail::adopt_thread_context(&g0_);
  stacks_live_.clear();
  g0_children_ = 0;
  g* m = new_g(weft::detail::task([body] { body.call(body.obj); }), site, nullptr, nullptr);
  m->is_main = true;
  gs(m) = gstate{};
  gs(m).lineage = 1;
  stacks_live_[reinterpret_cast<std::uintptr_t>(m->stk.top())] = {reinterpret_cast<std::uintptr_t>(m->stk.bottom), 1};
  runq_insert(m);

  loop();
  total_steps_ += steps_;
  teardown();
#if WEFT_TSAN
  {
    // Every goroutine released the scheduler's address as it finished
    // (goroutine_entry): what they did happens before explore returns.
    user_section u;
    __tsan_acquire(static_cast<weft::detail::scheduler*>(this));
  }
#endif
}

void explorer::loop() {
  for (;;) {
    if (stop_) return;
    if (advance_) {
      advance_ = false;
      if (!timers_.empty()) {
        advance_clock();
        continue;
      }
    }
    if (timers_due()) {
      fire_due_timers();
      continue;
    }
    if (runq_.empty()) {
      if (!main_done_ && !timers_.empty()) {
        advance_clock();
        continue;
      }
      finish();
      return;
    }
    g* n = pick(nullptr, nullptr);
    if (stop_) return;
    execute(n);
  }
}

// Nothing can run and (before main returns) no timer is pending.
void explorer::finish() {
  std::vector<std::uint32_t> blocked;
  for_each_g([&](g* p) {
    if (p->status.load(relaxed) == gstatus::waiting && !p->abandoned) blocked.push_back(id_of(p));
  });
  std::sort(blocked.begin(), blocked.end());
  if (!main_done_) {
    fail(check::kind::deadlock, "all goroutines are asleep - deadlock!", "deadlock", std::move(blocked));
    return;
  }
  if (blocked.empty()) return;
  finding found;
  if (leak_policy_ != nullptr) {
    if (!leak_policy_->enabled()) return;
    failure probe;
    snapshot(probe);
    std::vector<std::uint32_t> kept;
    std::size_t ignored = 0;
    for (std::uint32_t id : blocked) {
      auto it = std::find_if(probe.goroutines.begin(), probe.goroutines.end(),
                             [&](const goroutine_snapshot& s) { return s.id == id; });
      if (it != probe.goroutines.end() && leak_policy_->ignored(*it, trace_))
        ++ignored;
      else
        kept.push_back(id);
    }
    if (kept.empty()) return;
    if (ignored != 0)
      found.notes.push_back(std::to_string(ignored) + " more leaked goroutine(s) matched options::leaks and are not listed");
    blocked = std::move(kept);
  }
  std::string msg = blocked.size() == 1
                        ? std::string("goroutine ") + std::to_string(blocked.front()) +
                              " is still blocked or sleeping after main returned and nothing else could run"
                        : std::to_string(blocked.size()) +
                              " goroutines are still blocked or sleeping after main returned and nothing else could run";
  fail(check::kind::leak, std::move(msg), "leak", std::move(blocked), std::move(found));
}

void explorer::teardown() {
  tearing_down_ = true;
  stacks_live_.clear();
  runq_.clear();
  runq_ids_.clear();
  runq_hash_ = 0;
  cont_ = nullptr;
  advance_ = false;
  // Unwind every goroutine still alive so its destructors run, youngest first
  // (descending ids: deterministic, and a goroutine's frames usually outlive
  // the goroutines it started, which refer to them: main goes last). Unwinding
  // may ready or spawn others, hence the passes; one that blocks again while
  // unwinding is resumed by a later pass if something readies it, and
  // abandoned once a pass can run nothing.
  for (bool again = true; again;) {
    again = false;
    todo_.clear();
    for_each_g([&](g* p) {
      if (alive(p->status.load(relaxed)) && !p->abandoned) todo_.push_back(p);
    });
    std::sort(todo_.begin(), todo_.end(), [](const g* a, const g* b) { return a->id > b->id; });
    for (g* p : todo_) {
      if (!alive(p->status.load(relaxed)) || p->abandoned || blocked_while_unwinding(p)) continue;
      again = true;
      if (!p->started) {
        {
          user_section u;
          p->fn.reset();
        }
        goroutine_finished();
        p->status.store(gstatus::dead, relaxed);
        free_g(p);
        continue;
      }
      p->unwind_requested = true;
      execute(p);
    }
  }
  // Nothing could run in the last pass: whoever blocked again while being
  // unwound stays blocked for good.
  for_each_g([&](g* p) {
    if (!blocked_while_unwinding(p)) return;
    abandon(p);
    gstate& st = gs(p);
    if (!st.abandon_counted) {
      st.abandon_counted = true;
      goroutine_finished();
    }
  });
  // Armed timers belong to objects that may now be released.
  for (weft::detail::timer* t : timers_.take_all()) {
    t->owner.store(nullptr, std::memory_order_release);
    std::shared_ptr<void> dropped = std::move(t->keepalive);
    if (t->discard != nullptr) {
      user_section u;
      t->discard(t);
    }
  }
  holdings_.clear();
  tearing_down_ = false;
}

// ------------------------------------------------------------------ switching

void explorer::execute(g* next) {
  next->status.store(gstatus::running, relaxed);
  weft::detail::set_current_g(next);
  weft::detail::switch_context(&g0_, &next->ctx, &rec_);
  weft::detail::set_current_g(nullptr);
}

// Leave `self` for `next` (null: g0). action(arg) runs once self is off its
// stack. Returns when someone resumes self (who makes it current and running).
void explorer::switch_to(g* self, g* next, void (*action)(void*) noexcept, void* arg) {
  rec_.action = action;
  rec_.arg = arg;
  if (next != nullptr) {
    next->status.store(gstatus::running, relaxed);
    weft::detail::set_current_g(next);
    weft::detail::switch_context(&self->ctx, &next->ctx, &rec_);
  } else {
    weft::detail::set_current_g(nullptr);
    weft::detail::switch_context(&self->ctx, &g0_, &rec_);
  }
}

// The run failed: park `self` where it is until teardown unwinds it.
void explorer::stop_here(g* self) {
  self->status.store(gstatus::runnable, relaxed);  // alive, in no run queue
  switch_to(self, nullptr);
}

void explorer::throw_if_unwinding(g* self) {
  if (self->unwind_requested && std::uncaught_exceptions() == 0) throw weft::detail::forced_unwind{};
}

// `self` reached an interleaving point and could go on: decide who runs.
void explorer::reschedule(g* self) {
  if (stop_) {
    stop_here(self);
    return;
  }
  if (timers_due() || advance_) {
    // Timers fire on g0; self may continue afterwards without that being a
    // preemption.
    self->status.store(gstatus::runnable, relaxed);
    runq_insert(self);
    cont_ = self;
    switch_to(self, nullptr);
    return;
  }
  g* n = pick(self, self);
  if (stop_) {
    if (n != self) {
      n->status.store(gstatus::runnable, relaxed);
      runq_insert(n);
    }
    stop_here(self);
    return;
  }
  if (n == self) return;
  self->status.store(gstatus::runnable, relaxed);
  runq_insert(self);
  switch_to(self, n);
}

void explorer::run_unlock(void* p) noexcept {
  auto* ex = static_cast<explorer*>(p);
  ex->unlocking_ = true;
  ex->pending_unlock_(ex->pending_arg_);
  ex->unlocking_ = false;
}

void explorer::recycle(void* p) noexcept {
  auto* gp = static_cast<g*>(p);
  auto* ex = static_cast<explorer*>(gp->sched);
  gp->abandoned = false;  // it did finish (goroutine_entry marks unwound ones)
  ex->free_g(gp);
}

// ------------------------------------------------------------------ choosing

weft::detail::g* explorer::pick(g* self, g* last) {
  g* cont = self != nullptr ? self : cont_;
  cont_ = nullptr;
  const auto nq = static_cast<std::uint32_t>(runq_.size());
  const std::uint32_t n = nq + (self != nullptr ? 1 : 0);
  // self's place among the runnable ones, in id order
  const std::uint32_t self_id = id_of(self);
  const std::uint32_t self_pos =
      self == nullptr ? UINT32_MAX
                      : static_cast<std::uint32_t>(std::lower_bound(runq_ids_.begin(), runq_ids_.end(), self_id) -
                                                   runq_ids_.begin());
  auto at = [&](std::uint32_t i) -> g* {
    return i < self_pos ? runq_[i] : i == self_pos ? self : runq_[i - 1];
  };

  const bool yielded = self != nullptr && gs(self).yielded_at == steps_;
  g* chosen = nullptr;
  if (n == 1) {
    chosen = at(0);
  } else if (last_yield_ != 0) {
    // Fairness: leave out a goroutine that yielded while another candidate has
    // not run since (compare with the smallest last_run among the others).
    cand_.clear();
    for (std::uint32_t i = 0; i < n; ++i) cand_.push_back(at(i));
    std::uint64_t m1 = UINT64_MAX, m2 = UINT64_MAX;
    const g* o1 = nullptr;
    for (g* p : cand_) {
      const std::uint64_t lr = gs(p).last_run;
      if (lr < m1) {
        m2 = m1;
        m1 = lr;
        o1 = p;
      } else if (lr < m2) {
        m2 = lr;
      }
    }
    auto deprioritised = [&](g* p) {
      const gstate& s = gs(p);
      return s.yielded_at != 0 && (p == o1 ? m2 : m1) < s.yielded_at;
    };
    if (!std::all_of(cand_.begin(), cand_.end(), deprioritised))
      cand_.erase(std::remove_if(cand_.begin(), cand_.end(), deprioritised), cand_.end());
    const auto k = static_cast<std::uint32_t>(cand_.size());
    if (k == 1) {
      chosen = cand_.front();
    } else {
      ids_.resize(k);
      std::int32_t current = -1;
      std::uint64_t sum = 0;
      for (std::uint32_t i = 0; i < k; ++i) {
        ids_[i] = id_of(cand_[i]);
        sum += id_hash(ids_[i]);
        if (cand_[i] == cont) current = static_cast<std::int32_t>(i);
      }
      chosen = cand_[decide(decision_kind::schedule, k, last, ids_.data(), 0, UINT32_MAX, current,
                            set_fingerprint(sum), /*whole=*/false, yielded)];
    }
  } else {
    std::int32_t current = -1;
    if (cont == self && self != nullptr) {
      current = static_cast<std::int32_t>(self_pos);
    } else if (cont != nullptr) {
      auto it = std::lower_bound(runq_ids_.begin(), runq_ids_.end(), id_of(cont));
      if (it != runq_ids_.end() && *it == id_of(cont)) current = static_cast<std::int32_t>(it - runq_ids_.begin());
    }
    const std::uint64_t sum = runq_hash_ + (self != nullptr ? id_hash(self_id) : 0);
    chosen = at(decide(decision_kind::schedule, n, last, runq_ids_.data(), self_id, self_pos, current,
                       set_fingerprint(sum), /*whole=*/true, yielded));
  }
  if (chosen != self) runq_erase(chosen);
  gs(chosen).last_run = steps_;
  return chosen;
}

std::uint32_t explorer::decide(decision_kind kind, std::uint32_t k, g* by, const std::uint32_t* base,
                               std::uint32_t extra, std::uint32_t extra_pos, std::int32_t current,
                               std::uint8_t fingerprint, bool whole, bool yielded) {
  const std::uint32_t last = id_of(by);
  const std::uint64_t local = by == nullptr ? g0_steps_ : gs(by).local_steps;
  const decision_point d{kind,    k,    steps_, decisions_.size(), base,  extra,  extra_pos,
                         current, last, local,  fingerprint,       whole, yielded};
  std::uint32_t c = strat_->choose(d);
  if (c >= k) c = k - 1;
  decision rec;
  rec.step = steps_;
  rec.k = k;
  rec.kind = kind;
  rec.fingerprint = fingerprint;
  rec.choice = kind == decision_kind::schedule ? d.id(c) : c;
  rec.current = kind == decision_kind::schedule && current >= 0 ? d.id(static_cast<std::uint32_t>(current)) : 0;
  rec.by = last;
  rec.local = local;
  rec.is_default = c == (kind == decision_kind::schedule && current >= 0 ? static_cast<std::uint32_t>(current) : 0);
  decisions_.push_back(rec);
  if (const std::string& why = strat_->divergence(); !why.empty())
    fail(check::kind::nondeterminism, why, "nondeterminism",
         last != 0 ? std::vector<std::uint32_t>{last} : std::vector<std::uint32_t>{});
  return c;
}

void explorer::runq_insert(g* p) {
  const std::uint32_t id = id_of(p);
  const auto pos = std::upper_bound(runq_ids_.begin(), runq_ids_.end(), id) - runq_ids_.begin();
  runq_ids_.insert(runq_ids_.begin() + pos, id);
  runq_.insert(runq_.begin() + pos, p);
  runq_hash_ += id_hash(id);
  if (strat_tracks_runq_) strat_->runq_changed(id, true);
}

void explorer::runq_erase(g* p) {
  const std::uint32_t id = id_of(p);
  const auto it = std::lower_bound(runq_ids_.begin(), runq_ids_.end(), id);
  if (it == runq_ids_.end() || *it != id) return;
  const auto pos = it - runq_ids_.begin();
  runq_ids_.erase(it);
  runq_.erase(runq_.begin() + pos);
  runq_hash_ -= id_hash(id);
  if (strat_tracks_runq_) strat_->runq_changed(id, false);
}

// ------------------------------------------------------------------ steps and events

void explorer::record(const event& e) {
  trace_.push_back(e);
  for (observer* o : observers_) o->on_event(e);
}

void explorer::step(g* self, ev type, std::uint8_t code, const void* obj, const weft::source_location& site,
                    std::uint32_t other) {
  ++steps_;
  if (self != nullptr)
    ++gs(self).local_steps;
  else
    ++g0_steps_;
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.obj = obj;
  e.site = site;
  e.g = id_of(self);
  e.other = other;
  e.type = type;
  e.code = code;
  record(e);
  if (steps_ > max_steps_ && !stop_)
    fail(check::kind::step_bound,
         "the run took more than max_steps = " + std::to_string(max_steps_) +
             " steps (an unbounded loop, a livelock, or a program bigger than the bound: raise "
             "WEFT_MAX_STEPS / options::max_steps if it is the latter)",
         "step_bound", {});
}

void explorer::jitter(g* self) {
  if (jitter_ns_ <= 0 || timers_.empty() || main_done_ || stop_) return;
  const std::uint32_t c = decide(decision_kind::jitter, 8, self);
  if (c == 0) return;
  clock_ += duration(jitter_ns_ * c / 7);
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.g = id_of(self);
  e.other = c;
  e.aux = 8;
  e.type = ev::jitter;
  record(e);
}

bool explorer::timers_due() const noexcept {
  const weft::detail::timer* t = timers_.top();
  return t != nullptr && t->when <= clock_;
}

void explorer::advance_clock() {
  clock_ = std::max(clock_, timers_.top()->when);
  step(nullptr, ev::clock);
  if (stop_) return;
  fire_due_timers();
}

void explorer::fire_due_timers() {
  due_.clear();
  while (timers_due()) due_.push_back(timers_.pop());
  while (!due_.empty() && !stop_) {
    std::uint32_t i = 0;
    if (due_.size() > 1) i = decide(decision_kind::timer, static_cast<std::uint32_t>(due_.size()), nullptr);
    weft::detail::timer* t = due_[i];
    due_.erase(due_.begin() + i);
    event e;
    e.step = steps_;
    e.time = elapsed_ns();
    e.obj = t;
    e.type = ev::fire;
    record(e);
#if WEFT_TSAN
    {
      user_section u;
      __tsan_acquire(t);  // arming happened before firing (timer_armed)
    }
#endif
    if (!observers_.empty()) {
      e.type = ev::hb_acquire;
      for (observer* o : observers_) o->on_event(e);
    }
    if (t->period > duration::zero()) {
      t->when += t->period;
      if (t->when <= clock_) t->when = clock_ + t->period;
      timers_.push(t);
      t->fire(t, clock_);
    } else {
      t->owner.store(nullptr, std::memory_order_release);
      std::shared_ptr<void> dropped = std::move(t->keepalive);  // after fire: may free t
      t->fire(t, clock_);
    }
  }
  // A failure mid-way: the rest stay armed and are discarded at teardown.
  for (weft::detail::timer* t : due_) timers_.push(t);
  due_.clear();
}

void explorer::fail(check::kind k, std::string message, std::string signature, std::vector<std::uint32_t> involved,
                    const weft::source_location& site) {
  if (failure_ || tearing_down_) return;
  failure_.kind = k;
  failure_.message = std::move(message);
  failure_.signature = std::move(signature);
  failure_.site = site;
  failure_.step = steps_;
  snapshot(failure_);
  if (involved.empty())
    for (const auto& s : failure_.goroutines) involved.push_back(s.id);
  std::sort(involved.begin(), involved.end());
  failure_.involved = std::move(involved);
  stop_ = true;
  for (observer* o : observers_) o->explain(failure_);
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.site = site;
  e.g = id_of(weft::detail::current_g());
  e.type = ev::fail;
  e.code = static_cast<std::uint8_t>(k);
  record(e);
}

void explorer::fail(check::kind k, std::string message, std::string signature, std::vector<std::uint32_t> involved,
                    finding found) {
  if (failure_ || tearing_down_) return;
  failure_.found = std::move(found);
  fail(k, std::move(message), std::move(signature), std::move(involved));
}

stable_key explorer::key_of(const void* obj) const noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(obj);
  auto it = stacks_live_.upper_bound(a);
  if (it != stacks_live_.end() && a >= it->second.bottom) return {it->second.lineage, it->first - a};
  return {0, a};
}

void explorer::snapshot(failure& f) {
  f.goroutines.clear();
  for_each_g([&](g* p) {
    const gstatus st = p->status.load(relaxed);
    if (!alive(st) || p->abandoned) return;
    goroutine_snapshot s;
    s.id = id_of(p);
    s.parent = static_cast<std::uint32_t>(p->parent_id);
    s.is_main = p->is_main;
    s.running = st == gstatus::running;
    s.runnable = st == gstatus::runnable;
    if (st == gstatus::waiting) {
      s.reason = p->reason;
      s.wait_obj = p->wait_obj;
      s.blocked_at = p->blocked_at;
    }
    s.created_at = p->created_at;
    const gstate& gst = gs(p);
    s.has_last_op = gst.has_last_op;
    s.last_op = gst.last_op;
    s.last_obj = gst.last_obj;
    for (const holding& h : holdings_)
      if (h.g == s.id) s.holds.push_back({h.res, h.kind, h.site});
    f.goroutines.push_back(std::move(s));
  });
  std::sort(f.goroutines.begin(), f.goroutines.end(),
            [](const goroutine_snapshot& a, const goroutine_snapshot& b) { return a.id < b.id; });
}

// ------------------------------------------------------------------ the seam

weft::detail::g* explorer::spawn(weft::detail::task fn, const weft::source_location& site, g* parent) {
  runtime_section rs;
  g* self = weft::detail::current_g();
  g* c = new_g(std::move(fn), site, parent, nullptr);
  gs(c) = gstate{};
  if (tearing_down_) return c;  // never starts: teardown drops it
  {
    const bool from_g0 = self == nullptr || self->sched != this;
    const std::uint64_t lin = from_g0 ? child_lineage(0x7139e5, ++g0_children_)
                                      : child_lineage(gs(self).lineage, ++gs(self).children);
    gs(c).lineage = lin;
    stacks_live_[reinterpret_cast<std::uintptr_t>(c->stk.top())] = {reinterpret_cast<std::uintptr_t>(c->stk.bottom),
                                                                      lin};
  }
  runq_insert(c);
  if (self == nullptr || self->sched != this) {
    // Started by a timer (after_func), from g0: no interleaving point.
    event e;
    e.step = steps_;
    e.time = elapsed_ns();
    e.site = site;
    e.other = id_of(c);
    e.type = ev::spawn;
    record(e);
    return c;
  }
  gstate& st = gs(self);
  st.last_op = op::spawn;
  st.last_obj = nullptr;
  st.has_last_op = true;
  step(self, ev::spawn, static_cast<std::uint8_t>(op::spawn), nullptr, site, id_of(c));
  reschedule(self);
  // Even when resumed to be unwound, return normally: the goroutine exists (a
  // caller such as wait_group::go counts on that); the next interleaving point
  // throws.
  return c;
}

void explorer::park(g* self, weft::detail::unlock_fn unlock, void* arg) {
  runtime_section rs;
  pending_unlock_ = unlock;
  pending_arg_ = arg;
  void (*action)(void*) noexcept = unlock != nullptr ? &explorer::run_unlock : nullptr;
  if (tearing_down_) {  // blocked again while unwinding: teardown's passes decide
    switch_to(self, nullptr, action, this);
    return;
  }
  step(self, ev::park, static_cast<std::uint8_t>(self->reason), self->wait_obj, self->blocked_at);
  g* n = nullptr;
  if (!stop_ && !runq_.empty() && !timers_due()) {
    n = pick(nullptr, self);
    if (stop_) {
      n->status.store(gstatus::runnable, relaxed);
      runq_insert(n);
      n = nullptr;
    }
  }
  switch_to(self, n, action, this);
}

void explorer::ready(g* gp) noexcept {
  runtime_section rs;
  if (gp->abandoned) return;
  gp->status.store(gstatus::runnable, relaxed);
  if (tearing_down_) return;  // teardown's next pass unwinds it
  runq_insert(gp);
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.g = id_of(weft::detail::current_g());
  e.other = id_of(gp);
  e.type = ev::ready;
  record(e);
}

void explorer::yield(g* self) {
  if (tearing_down_) return;
  runtime_section rs;
  gstate& st = gs(self);
  st.last_op = op::yield;
  st.last_obj = nullptr;
  st.has_last_op = true;
  step(self, ev::yield, static_cast<std::uint8_t>(op::yield));
  st.yielded_at = steps_;
  last_yield_ = steps_;
  // Spinning alone while a timer is pending: let the time pass it waits for.
  if (runq_.empty() && !timers_.empty() && !main_done_) advance_ = true;
  jitter(self);
  reschedule(self);
}

void explorer::goexit(g* self) {
  runtime_section rs;
  self->status.store(gstatus::dead, relaxed);
  if (tearing_down_) {
    switch_to(self, nullptr, &recycle, self);
    return;  // not reached: a reused g starts afresh
  }
  step(self, ev::exit);
  stacks_live_.erase(reinterpret_cast<std::uintptr_t>(self->stk.top()));
  if (self->is_main) main_done_ = true;
  g* n = nullptr;
  if (!stop_ && !runq_.empty() && !timers_due()) {
    n = pick(nullptr, self);
    if (stop_) {
      n->status.store(gstatus::runnable, relaxed);
      runq_insert(n);
      n = nullptr;
    }
  }
  switch_to(self, n, &recycle, self);
}

void explorer::on_panic(g* self, std::exception_ptr e) noexcept {
  runtime_section rs;
  if (tearing_down_) return;
  std::string what, type;
  try {
    std::rethrow_exception(e);
  } catch (const weft::panic_error& x) {
    what = x.what();
  } catch (const std::exception& x) {
    type = demangle(typeid(x).name());
    what = x.what();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    type = t != nullptr ? demangle(t->name()) : "unknown exception";
  }
  std::string msg = "panic: " + (type.empty() ? what : what.empty() ? type : type + ": " + what);
  std::string sig = "panic:" + type + ":" + what;
  fail(check::kind::panic, std::move(msg), std::move(sig), {id_of(self)});
}

// The goroutine arming t: what it did so far happens before t fires (see
// fire_due_timers). Not from a park's unlock callback (sleep arms its timer
// there), which runs on another goroutine's stack.
void explorer::timer_armed(weft::detail::timer* t) {
  g* cur = weft::detail::current_g();
  if (unlocking_ || cur == nullptr) return;
#if WEFT_TSAN
  {
    user_section u;
    __tsan_release(t);
  }
#endif
  if (observers_.empty()) return;
  event e;
  e.step = steps_;
  e.obj = t;
  e.g = id_of(cur);
  e.type = ev::hb_release;
  for (observer* o : observers_) o->on_event(e);
}

void explorer::timer_start(weft::detail::timer* t, std::shared_ptr<void> keepalive) {
  runtime_section rs;
  t->owner.store(this, std::memory_order_release);
  t->keepalive = std::move(keepalive);
  timers_.push(t);
  timer_armed(t);
}

bool explorer::timer_stop(weft::detail::timer* t) noexcept {
  runtime_section rs;
  std::shared_ptr<void> dropped;
  const bool was = timers_.remove(t);
  if (was) {
    t->owner.store(nullptr, std::memory_order_release);
    dropped = std::move(t->keepalive);
  }
  return was;
}

bool explorer::timer_reset(weft::detail::timer* t, time_point when, duration period,
                           std::shared_ptr<void> keepalive) {
  runtime_section rs;
  const bool was = timers_.remove(t);
  std::shared_ptr<void> dropped = std::move(t->keepalive);
  t->when = when;
  t->period = period;
  t->owner.store(this, std::memory_order_release);
  t->keepalive = std::move(keepalive);
  timers_.push(t);
  timer_armed(t);
  return was;
}

void explorer::blocking_call(g* self, weft::detail::task fn) {
  // One thread, virtual time: the call simply runs here.
  fn();
}

void explorer::sched_point(g* self, op o, const void* obj) {
  if (tearing_down_) return;
  runtime_section rs;
  gstate& st = gs(self);
  st.last_op = o;
  st.last_obj = obj;
  st.has_last_op = true;
  step(self, ev::point, static_cast<std::uint8_t>(o), obj);
  if (o == op::sleep) {
    // sleep(0) and sleeps into the past: a yield (fairness), and time passes
    // if nobody else can run.
    st.yielded_at = steps_;
    last_yield_ = steps_;
    if (runq_.empty() && !timers_.empty() && !main_done_) advance_ = true;
  }
  jitter(self);
  reschedule(self);
}

std::uint32_t explorer::random_below(g* self, std::uint32_t n) {
  if (n <= 1 || tearing_down_ || stop_) return 0;
  runtime_section rs;
  const std::uint32_t c = decide(decision_kind::random, n, self);
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.g = id_of(self);
  e.other = c;
  e.aux = n;
  e.type = ev::random;
  record(e);
  return c;
}

void explorer::hb_release(g* self, const void* addr) noexcept {
  if (observers_.empty()) return;
  runtime_section rs;
  event e;
  e.step = steps_;
  e.obj = addr;
  e.g = id_of(self);
  e.type = ev::hb_release;
  for (observer* o : observers_) o->on_event(e);
}

void explorer::hb_acquire(g* self, const void* addr) noexcept {
  if (observers_.empty()) return;
  runtime_section rs;
  event e;
  e.step = steps_;
  e.obj = addr;
  e.g = id_of(self);
  e.type = ev::hb_acquire;
  for (observer* o : observers_) o->on_event(e);
}

void explorer::resource_acquired(g* self, const void* res, weft::detail::resource_kind kind,
                                 const weft::source_location& where) {
  if (tearing_down_) return;
  runtime_section rs;
  holdings_.push_back({res, kind, id_of(self), where});
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.obj = res;
  e.site = where;
  e.g = id_of(self);
  e.type = ev::acquire;
  e.code = static_cast<std::uint8_t>(kind);
  record(e);
}

void explorer::resource_released(g* self, const void* res, weft::detail::resource_kind kind) {
  if (tearing_down_) return;
  runtime_section rs;
  // Go lets another goroutine unlock a mutex: prefer the caller's own holding.
  auto match = [&](const holding& h, bool own) {
    return h.res == res && h.kind == kind && (!own || h.g == id_of(self));
  };
  auto it = std::find_if(holdings_.rbegin(), holdings_.rend(), [&](const holding& h) { return match(h, true); });
  if (it == holdings_.rend())
    it = std::find_if(holdings_.rbegin(), holdings_.rend(), [&](const holding& h) { return match(h, false); });
  if (it != holdings_.rend()) holdings_.erase(std::next(it).base());
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.obj = res;
  e.g = id_of(self);
  e.type = ev::release;
  e.code = static_cast<std::uint8_t>(kind);
  record(e);
}

// ------------------------------------------------------------------ the public API's hooks

std::uint32_t explorer::choose_user(g* self, std::uint32_t n, const weft::source_location& where) {
  if (n <= 1 || tearing_down_) return 0;
  std::uint32_t c = 0;
  {
    runtime_section rs;
    if (!stop_) {
      c = decide(decision_kind::user, n, self);
      event e;
      e.step = steps_;
      e.time = elapsed_ns();
      e.site = where;
      e.g = id_of(self);
      e.other = c;
      e.aux = n;
      e.type = ev::choose;
      record(e);
    }
    if (stop_) stop_here(self);
  }
  throw_if_unwinding(self);
  return c;
}

void explorer::record_access(g* self, const void* addr, std::size_t size, bool write,
                             const weft::source_location& where) {
  if (tearing_down_) return;
  runtime_section rs;
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.obj = addr;
  e.site = where;
  e.g = id_of(self);
  e.aux = static_cast<std::uint32_t>(size);
  e.type = write ? ev::write : ev::read;
  record(e);
}

void explorer::record_progress(g* self, const weft::source_location& where) {
  if (tearing_down_) return;
  runtime_section rs;
  event e;
  e.step = steps_;
  e.time = elapsed_ns();
  e.site = where;
  e.g = id_of(self);
  e.type = ev::progress;
  record(e);
}

void explorer::record_forget(g* self, const void* addr, std::size_t size) {
  if (tearing_down_ || observers_.empty()) return;
  runtime_section rs;
  event e;
  e.step = steps_;
  e.obj = addr;
  e.g = id_of(self);
  e.aux = static_cast<std::uint32_t>(std::min<std::size_t>(size, UINT32_MAX));
  e.type = ev::forget;
  for (observer* o : observers_) o->on_event(e);
}

void explorer::assertion_failed(g* self, std::string message, std::string signature,
                                const weft::source_location& where) {
  if (tearing_down_) return;  // in a destructor while being unwound: nothing to report any more
  {
    runtime_section rs;
    fail(check::kind::assertion, std::move(message), std::move(signature), {id_of(self)}, where);
    stop_here(self);
  }
  throw_if_unwinding(self);
}

void explorer::note_failure(g* self, check::kind k, std::string message, std::string signature) {
  if (tearing_down_) return;
  runtime_section rs;
  fail(k, std::move(message), std::move(signature), {id_of(self)});
}

}  // namespace weft::check::detail
