// explore(): iterations, replay, shrinking, and the report.
//
// Shrinking (bounded by options::shrink_runs runs, deterministic). The goal,
// in order: fewer preemptions, fewer steps, fewer non-default decisions, with
// the same failure (same kind and signature: the same assertion site, the same
// panic). Two representations of the failing schedule are edited:
//  1. directives: each non-default decision pinned to a point in the deciding
//     goroutine's own history ("when goroutine 3 has taken 5 steps, run
//     goroutine 4"), which stays meaningful when other parts of the run change.
//     Delta debugging removes chunks of directives (all of them first: the
//     default schedule, then halves, quarters, ... single ones); every other
//     decision takes its default (keep running; else the lowest id; 0).
//  2. the decision log by position, with the lenient "guided" replay: each
//     preemption replaced by letting the goroutine continue, chunks of
//     decisions deleted, non-schedule choices set to 0.
// A candidate is kept when it is strictly better. The final schedule is then
// replayed strictly and the report describes that run, so replaying its
// schedule string reproduces the report exactly.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <tuple>

#include "detect/detectors.hpp"
#include "explore/explorer.hpp"
#include "explore/schedule.hpp"
#include "report/build.hpp"
#include "runtime/g.hpp"

namespace weft::check::detail {

namespace {

void validate(const options& opt) {
  if (opt.iterations == 0)
    throw config_error("options::iterations is 0: explore at least one schedule (e.g. 1000, or WEFT_ITERATIONS=1000)");
  if (opt.max_steps == 0)
    throw config_error("options::max_steps is 0: a run needs at least one step (e.g. 100000, or WEFT_MAX_STEPS)");
  if (opt.stack_size < 16 * 1024) throw config_error("options::stack_size must be at least 16 KiB");
  if (opt.jitter < weft::duration::zero()) throw config_error("options::jitter must not be negative (0 turns it off)");
  if (opt.time_budget < std::chrono::nanoseconds::zero())
    throw config_error("options::time_budget must not be negative (0 means no budget)");
  if (const auto* p = std::get_if<pct>(&opt.strategy); p != nullptr && p->depth == 0)
    throw config_error("pct{.depth = 0}: the depth must be at least 1 (3 finds most bugs)");
  if (const auto* r = std::get_if<replay>(&opt.strategy); r != nullptr && r->schedule.empty())
    throw config_error("replay{} needs a schedule string: the one printed after WEFT_REPLAY= in a failure report");
}

std::size_t count_preemptions(const std::vector<decision>& ds) {
  std::size_t n = 0;
  for (const decision& d : ds) n += d.preemption() ? 1 : 0;
  return n;
}

bool same_failure(const failure& a, const failure& b) { return a.kind == b.kind && a.signature == b.signature; }

// The schedule of the explorer's last run and the report metadata that every
// report shares; steps, preemptions and time are the caller's.
run_meta meta_of(const explorer& ex, check::kind outcome, std::uint64_t seed, std::uint64_t iteration,
                 const std::string& finder, const run_settings& rs, std::vector<witness_run> witnesses = {}) {
  schedule s;
  s.seed = seed;
  s.iteration = iteration;
  s.max_steps = rs.max_steps;
  s.jitter_ns = rs.jitter_ns;
  s.outcome = outcome;
  s.steps = ex.steps();
  s.finder = finder;
  s.decisions = ex.decisions();
  s.witnesses = std::move(witnesses);
  run_meta meta;
  meta.seed = seed;
  meta.iteration = iteration;
  meta.finder = finder;
  meta.schedule = encode_schedule(s);
  return meta;
}

// The lock-order inversion closed in the explorer's last run, as a report:
// that run up to the acquisition that closed the cycle, and a schedule that
// carries the earlier runs the cycle's other edges come from.
report make_lock_order_report(const explorer& ex, const lock_order_detector& lo, std::uint64_t seed,
                              std::uint64_t iteration, const std::string& finder, const run_settings& rs,
                              std::vector<witness_run> witnesses) {
  failure f;
  f.kind = check::kind::lock_order;
  f.message = "lock-order inversion";
  f.signature = lo.signature();
  f.found = lo.evidence();
  f.involved = lo.found_goroutines();
  f.goroutines = lo.found_snapshot();
  f.step = lo.found_step();
  run_meta meta = meta_of(ex, f.kind, seed, iteration, finder, rs, std::move(witnesses));
  meta.steps = lo.found_step();
  meta.preemptions = static_cast<std::size_t>(std::count_if(
      ex.decisions().begin(), ex.decisions().end(),
      [&](const decision& d) { return d.preemption() && d.step <= lo.found_step(); }));
  std::vector<event> prefix(ex.trace().begin(),
                            ex.trace().begin() + static_cast<std::ptrdiff_t>(
                                                     std::min(lo.found_trace_size(), ex.trace().size())));
  meta.time_ns = prefix.empty() ? 0 : prefix.back().time;
  return build_report(f, prefix, meta);
}

report make_report(const explorer& ex, const failure& f, std::uint64_t seed, std::uint64_t iteration,
                   const std::string& finder, const run_settings& rs) {
  run_meta meta = meta_of(ex, f.kind, seed, iteration, finder, rs);
  meta.steps = ex.steps();
  meta.preemptions = ex.preemptions();
  meta.time_ns = ex.elapsed_ns();
  return build_report(f, ex.trace(), meta);
}

class shrinker {
 public:
  shrinker(explorer& ex, body_ref body, const weft::source_location& site, const run_settings& rs,
           const failure& target, std::vector<decision> decisions, std::uint64_t steps, std::uint64_t budget)
      : ex_(ex), body_(body), site_(site), rs_(rs), target_(target), best_(std::move(decisions)),
        best_p_(count_preemptions(best_)), best_steps_(steps), budget_(budget) {}

  void run() {
    minimize_directives();
    for (bool improved = true; improved && runs_ < budget_;) {
      improved = false;
      for (std::size_t i = 0; i < best_.size() && runs_ < budget_; ++i) {
        if (!best_[i].preemption()) continue;
        std::vector<decision> g = best_;
        g[i].choice = g[i].current;
        improved |= attempt(make_guided(std::move(g)));
      }
      for (std::size_t chunk = best_.size() / 2; chunk >= 1 && runs_ < budget_; chunk /= 2) {
        for (std::size_t start = 0; start + chunk <= best_.size() && runs_ < budget_;) {
          std::vector<decision> g = best_;
          g.erase(g.begin() + static_cast<std::ptrdiff_t>(start), g.begin() + static_cast<std::ptrdiff_t>(start + chunk));
          if (attempt(make_guided(std::move(g))))
            improved = true;
          else
            start += chunk;
        }
      }
      for (std::size_t i = 0; i < best_.size() && runs_ < budget_; ++i) {
        if (best_[i].kind == decision_kind::schedule || best_[i].choice == 0) continue;
        std::vector<decision> g = best_;
        g[i].choice = 0;
        improved |= attempt(make_guided(std::move(g)));
      }
      if (improved) minimize_directives();
    }
  }

  bool improved() const noexcept { return accepted_ > 0; }
  const std::vector<decision>& best() const noexcept { return best_; }
  std::size_t preemptions() const noexcept { return best_p_; }
  std::uint64_t steps() const noexcept { return best_steps_; }
  std::uint64_t runs() const noexcept { return runs_; }

 private:
  static std::size_t non_default(const std::vector<decision>& ds) {
    return static_cast<std::size_t>(std::count_if(ds.begin(), ds.end(), [](const decision& d) { return !d.is_default; }));
  }

  // Delta debugging over the directive set.
  void minimize_directives() {
    std::vector<directive> ds = directives_of(best_);
    std::size_t chunk = ds.size();
    while (chunk >= 1 && runs_ < budget_) {
      bool any = false;
      for (std::size_t start = 0; start < ds.size() && runs_ < budget_;) {
        std::vector<directive> cand(ds.begin(), ds.begin() + static_cast<std::ptrdiff_t>(start));
        cand.insert(cand.end(), ds.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, ds.size())), ds.end());
        if (attempt(make_directed(std::move(cand)))) {
          ds = directives_of(best_);
          any = true;
        } else {
          start += chunk;
        }
      }
      if (chunk == 1 && !any) break;
      if (chunk > 1) chunk /= 2;
    }
  }

  bool attempt(std::unique_ptr<strategy_impl> strat) {
    if (runs_ >= budget_) return false;
    ++runs_;
    strat->begin(1);
    ex_.run(body_, site_, *strat, rs_);
    if (!same_failure(ex_.result(), target_)) return false;
    const std::size_t p = ex_.preemptions();
    const std::uint64_t st = ex_.steps();
    const std::size_t n = non_default(ex_.decisions());
    const std::size_t bn = non_default(best_);
    if (std::tie(p, st, n) >= std::tie(best_p_, best_steps_, bn)) return false;
    best_ = ex_.decisions();
    best_p_ = p;
    best_steps_ = st;
    ++accepted_;
    return true;
  }

  explorer& ex_;
  body_ref body_;
  weft::source_location site_;
  run_settings rs_;
  const failure& target_;
  std::vector<decision> best_;
  std::size_t best_p_;
  std::uint64_t best_steps_;
  std::uint64_t budget_;
  std::uint64_t runs_ = 0;
  std::uint64_t accepted_ = 0;
};

report replay_one(explorer& ex, detectors& det, body_ref body, const weft::source_location& site,
                  const std::string& text, run_settings rs) {
  const schedule s = decode_schedule(text);
  rs.max_steps = s.max_steps != 0 ? s.max_steps : rs.max_steps;
  rs.jitter_ns = s.jitter_ns;
  // A lock-order inversion's earlier runs first, so that the graph holds the
  // same edges when the run itself closes the cycle.
  for (std::size_t i = 0; i < s.witnesses.size(); ++i) {
    auto w = make_replay(s.witnesses[i].decisions);
    w->begin(1);
    det.next_run(s.witnesses[i].iteration);
    ex.run(body, site, *w, rs);
    w->end(ex.decisions().size());
    if (!w->divergence().empty()) {
      failure d;
      d.kind = check::kind::nondeterminism;
      d.signature = "nondeterminism";
      d.message = "earlier run #" + std::to_string(i + 1) + " of this schedule (schedule " +
                  std::to_string(s.witnesses[i].iteration) + ", replayed for its lock order) diverged: " +
                  w->divergence();
      report r = make_report(ex, d, s.seed, s.iteration, s.finder, rs);
      r.schedule = encode_schedule(s);
      r.iterations = 1;
      r.failures = 1;
      return r;
    }
  }
  auto strat = make_replay(s.decisions);
  strat->begin(1);
  det.next_run(s.iteration);
  ex.run(body, site, *strat, rs);
  strat->end(ex.decisions().size());
  failure f = ex.result();
  const bool diverged = !strat->divergence().empty();
  if (!diverged && !f && s.outcome == check::kind::lock_order && det.lock_order() != nullptr &&
      det.lock_order()->found_in_this_run()) {
    report r = make_lock_order_report(ex, *det.lock_order(), s.seed, s.iteration, s.finder, rs, s.witnesses);
    r.iterations = 1;
    r.failures = 1;
    return r;
  }
  if (diverged && f.kind != check::kind::nondeterminism) {
    // Noticed only at the end (the run stopped early, or went on past the
    // schedule without a decision).
    failure d;
    d.kind = check::kind::nondeterminism;
    d.message = strat->divergence() + " (this run ended " +
                (f ? std::string("with ") + to_string(f.kind) + ": " + f.message : std::string("without failing")) +
                ")";
    d.signature = "nondeterminism";
    f = std::move(d);
  } else if (!f && s.outcome != check::kind::ok) {
    f.kind = check::kind::nondeterminism;
    f.signature = "nondeterminism";
    f.message = std::string("the recorded run failed (") + to_string(s.outcome) +
                ") but this replay of its decisions passed: something in the program is not controlled by weft";
  }
  report r = make_report(ex, f, s.seed, s.iteration, s.finder, rs);
  if (f.kind == check::kind::nondeterminism) r.schedule = encode_schedule(s);  // what was replayed
  r.iterations = 1;
  r.failures = r.ok() ? 0 : 1;
  return r;
}

}  // namespace

report explore(const options& opt_in, body_ref body, const weft::source_location& site) {
  if (weft::detail::current_g() != nullptr)
    throw config_error(
        "weft::check::explore called from inside a goroutine: call it from a plain thread (a test body), "
        "and start goroutines inside the explored body with weft::go");
  const environment env = read_environment();
  options opt = opt_in;
  if (env.replay) opt.strategy = replay{*env.replay};  // reproduction variables win over code
  if (env.seed) opt.seed = *env.seed;
  validate(opt);

  explorer ex(opt.stack_size);
  detectors det(ex, opt);
  ex.add_observer(&det);
  ex.set_leak_policy(&det);
  lock_order_detector* lo = det.lock_order();
  run_settings rs;
  rs.max_steps = opt.max_steps;
  rs.jitter_ns = opt.jitter.count();

  if (const auto* rp = std::get_if<replay>(&opt.strategy)) {
    report r = replay_one(ex, det, body, site, rp->schedule, rs);
    r.explored_steps = ex.total_steps();
    return r;
  }

  auto strat = make_strategy(opt.strategy, opt.seed);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t tried = 0, failures = 0;
  bool budget_hit = false;
  std::optional<report> first;
  failure first_f;
  std::vector<decision> first_d;
  std::uint64_t first_steps = 0;
  std::string first_finder;
  // Lock-order inversions (see lock_order_options): the first one is kept
  // while the exploration goes on looking for a real failure, which wins.
  std::optional<report> inversion;
  std::uint64_t run_no = 0;
  std::map<std::uint64_t, witness_run> edge_runs;  // runs that added lock-order edges

  while (tried < opt.iterations) {
    if (opt.time_budget.count() > 0 && std::chrono::steady_clock::now() - start >= opt.time_budget) {
      budget_hit = true;
      break;
    }
    if (!strat->begin(tried + 1)) break;
    const std::string finder = strat->name();
    ++run_no;
    det.next_run(tried + 1);
    ex.run(body, site, *strat, rs);
    if (lo != nullptr && !inversion) {
      if (lo->found_in_this_run() && !ex.result()) {
        std::vector<witness_run> ws;
        for (std::uint64_t w : lo->witness_runs())
          if (auto it = edge_runs.find(w); it != edge_runs.end()) ws.push_back(it->second);
        inversion = make_lock_order_report(ex, *lo, opt.seed, tried + 1, finder, rs, std::move(ws));
        edge_runs.clear();
      } else if (lo->added_edges() && !lo->found()) {
        edge_runs[run_no] = witness_run{tried + 1, ex.decisions()};
      }
    }
    if (!strat->end(ex.decisions().size())) continue;  // a repeat (DFS at a higher bound)
    ++tried;
    if (!ex.result()) continue;
    ++failures;
    if (!first) {
      first = make_report(ex, ex.result(), opt.seed, tried, finder, rs);
      first_f = ex.result();
      first_d = ex.decisions();
      first_steps = ex.steps();
      first_finder = finder;
    }
    if (opt.stop_on_first_failure) break;
  }

  std::string note = strat->summary();
  if (budget_hit) {
    if (!note.empty()) note += "; ";
    note += "stopped by the time budget after " + std::to_string(tried) + " schedule(s)";
  }
  if (!first) {
    report r;
    if (inversion) {
      r = std::move(*inversion);
      r.failures = 1;
      const std::string why = "no schedule failed, but locks were taken in orders that can deadlock";
      note = note.empty() ? why : note + "; " + why;
    } else {
      r.seed = opt.seed;
      r.strategy = to_string(opt.strategy);
    }
    r.iterations = tried;
    r.exhausted = strat->exhausted();
    r.note = note;
    r.explored_steps = ex.total_steps();
    return r;
  }
  if (inversion) {
    const std::string also = "schedule " + std::to_string(inversion->iteration) +
                             " also showed a lock-order inversion (" + inversion->message +
                             "); the failure below is the stronger verdict";
    note = note.empty() ? also : note + "; " + also;
  }

  report r = std::move(*first);
  if (lo != nullptr) lo->set_recording(false);
  if (opt.shrink && first_f.kind != check::kind::nondeterminism) {
    shrinker sh(ex, body, site, rs, first_f, first_d, first_steps, opt.shrink_runs);
    sh.run();
    if (sh.improved()) {
      auto strict = make_replay(sh.best());
      strict->begin(1);
      ex.run(body, site, *strict, rs);
      strict->end(ex.decisions().size());
      std::string how = "shrunk from " + std::to_string(count_preemptions(first_d)) + " preemption(s) and " +
                        std::to_string(first_steps) + " steps to " + std::to_string(sh.preemptions()) +
                        " and " + std::to_string(sh.steps()) + " in " + std::to_string(sh.runs()) + " run(s)";
      if (strict->divergence().empty() && same_failure(ex.result(), first_f)) {
        r = make_report(ex, ex.result(), opt.seed, r.iteration, first_finder, rs);
        note = note.empty() ? how : note + "; " + how;
      } else {
        std::string why =
            "shrinking found a shorter failing schedule that does not replay identically (is the program "
            "deterministic under weft?): reporting the run as found";
        note = note.empty() ? why : note + "; " + why;
      }
    }
  }
  r.iterations = tried;
  r.failures = failures;
  r.exhausted = strat->exhausted();
  r.note = note;
  r.explored_steps = ex.total_steps();
  return r;
}

}  // namespace weft::check::detail
