// Exploration strategies: who decides at each of the explorer's choice points.
//
//   opt.strategy = weft::check::random{};                      // uniform at every choice
//   opt.strategy = weft::check::pct{.depth = 3};               // probabilistic concurrency testing
//   opt.strategy = weft::check::dfs{.preemption_bound = 2};    // exhaustive within 2 preemptions
//   opt.strategy = weft::check::dfs{};                         // every interleaving
//   opt.strategy = weft::check::replay{"w1..."};               // one recorded schedule, exactly
//   opt.strategy = weft::check::portfolio{};                   // the default: pct and random in turn
//
// A choice point is every interleaving point (channel operations, select,
// locks, WaitGroup, cond, once, semaphores, context, spawn, yield, sleep and
// timer operations, weft::atomic and check::shared accesses), every select with
// several ready cases, every ordering of timers due at one instant, every jitter
// step and every check::choose(n). Each choice is a decision in the run's
// decision log, which the schedule string encodes.
//
// Fairness (CHESS): under every strategy a goroutine that yields (or sleeps for
// no time) is not chosen again while a goroutine that has not run since its
// yield can run, so spin loops that yield make progress.
//
// These are plain values; the algorithms live in the library (src/explore) and
// hold no global state: two explorations never influence each other.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace weft::check {

// Uniformly random choice at every decision; each iteration's generator is
// derived from (seed, iteration).
struct random {};

// Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
// ASPLOS 2010): goroutines get random distinct priorities, the highest-priority
// runnable goroutine always runs, and at depth-1 change points chosen uniformly
// over the decision count learned from earlier iterations the running
// goroutine drops to a priority below all others. Finds a bug of depth d with
// probability at least 1/(n * k^(d-1)) per iteration (n goroutines, k steps).
struct pct {
  unsigned depth = 3;
};

// Depth-first enumeration of the decision tree, iterating preemption bounds
// 0, 1, 2, ... as CHESS does, so schedules with few preemptions come first. A
// preemption is switching away from a goroutine that could have continued.
// With a bound, every schedule with at most that many preemptions is tried
// exactly once; without one, every schedule is. When the tree is exhausted the
// exploration ends early and the report says so (report::exhausted).
struct dfs {
  std::optional<unsigned> preemption_bound;
};

// Run exactly one recorded schedule, checking at each decision that the program
// offers the same choices (same step, same number of runnable goroutines, same
// runnable set); a divergence is reported as kind::nondeterminism with where
// and how the run differed.
struct replay {
  std::string schedule;
};

// The default: iterations alternate between pct{.depth = 3} and random{}
// (a small portfolio, as Coyote runs one).
struct portfolio {};

using strategy = std::variant<portfolio, random, pct, dfs, replay>;

// "portfolio", "random", "pct:3", "dfs", "dfs:2", "replay" (schedule elided).
std::string to_string(const strategy& s);

// An invalid setting (an option, a WEFT_* variable, a schedule string). what()
// says what was wrong and what to do instead.
class config_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Parses WEFT_STRATEGY's syntax: random | pct[:depth] | dfs[:bound] | portfolio
// | replay (the schedule then comes from WEFT_REPLAY). Throws config_error.
strategy parse_strategy(std::string_view text);

}  // namespace weft::check
