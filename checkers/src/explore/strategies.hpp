// The strategy interface: policy apart from mechanism (STYLE.md 3).
//
// The explorer (mechanism) finds the options at each decision and records what
// was chosen; a strategy (policy) only picks. Four small methods, no global
// state: begin a run, choose, end a run, and (for replay) say how the run
// diverged. Implementations: random, pct, dfs, portfolio, strict replay, and
// the lenient "guided" replay that shrinking uses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "explore/decision.hpp"
#include "weft/check/strategy.hpp"

namespace weft::check::detail {

class strategy_impl {
 public:
  virtual ~strategy_impl() = default;

  // Prepare run number `iteration` (1-based). False: nothing left to explore.
  virtual bool begin(std::uint64_t iteration) = 0;
  // An option in [0, d.k). For schedule decisions, an index into d.ids.
  virtual std::uint32_t choose(const decision_point& d) = 0;
  // The run ended after `decisions` decisions. Returns false when the run
  // repeated one already explored (DFS at a higher preemption bound); the
  // explorer then does not count it.
  virtual bool end(std::size_t decisions) { return true; }
  // Non-empty once the run has left the strategy's script (replay, or a DFS
  // prefix the program no longer follows): how, for kind::nondeterminism.
  virtual const std::string& divergence() const noexcept { return no_divergence_; }
  // True once every schedule (within the bound) has been tried.
  virtual bool exhausted() const noexcept { return false; }
  // A line for the report when exploration ends (DFS: how much was covered).
  virtual std::string summary() const { return {}; }
  // "random", "pct:3", ...; what the schedule string records as the finder.
  virtual std::string name() const = 0;

  // Optional, for strategies that keep their own view of who is runnable
  // (PCT's priority heap): when tracks_runq() is true at the start of a run,
  // the explorer reports every goroutine entering (added) or leaving the run
  // queue. The candidates of a schedule decision whose whole_runq is set are
  // the run queue plus decision_point::extra.
  virtual bool tracks_runq() const noexcept { return false; }
  virtual void runq_changed(std::uint32_t id, bool added) {}

 protected:
  std::string no_divergence_;
};

std::unique_ptr<strategy_impl> make_strategy(const strategy& s, std::uint64_t seed);

// Strict replay of recorded decisions: verifies step, kind, option count and
// runnable set at each one.
std::unique_ptr<strategy_impl> make_replay(std::vector<decision> decisions);

// Lenient replay for shrinking: follows the recorded decisions where they still
// apply (the same kind, a goroutine that is runnable, a value in range) and
// otherwise takes the default (the running goroutine, else the lowest id; 0).
std::unique_ptr<strategy_impl> make_guided(std::vector<decision> decisions);

// A decision pinned to a point in one goroutine's own history: "when goroutine
// `by` has taken `local` steps, its `sub`-th decision of this kind picks
// `choice`". Shrinking works on sets of these.
struct directive {
  decision_kind kind;
  std::uint32_t by;
  std::uint64_t local;
  std::uint32_t sub;
  std::uint32_t choice;  // schedule: a goroutine id
};

// Follows the directives where they apply and otherwise takes the default
// (keep running the current goroutine, else the lowest id; 0).
std::unique_ptr<strategy_impl> make_directed(std::vector<directive> directives);

// The directives that reproduce a run's non-default decisions.
std::vector<directive> directives_of(const std::vector<decision>& decisions);

}  // namespace weft::check::detail
