// weft::check::explore — run a body under the deterministic explorer, many times.
//
//   weft::check::options opt;                       // defaults from WEFT_* variables
//   opt.strategy = weft::check::pct{.depth = 3};
//   opt.iterations = 10'000;
//   auto r = weft::check::explore(opt, [] {         // body runs as the main goroutine
//     ...
//     WEFT_ASSERT(invariant());
//   });
//   EXPECT_TRUE(r.ok()) << r;
//
// Each iteration runs the body as the main goroutine of a fresh run on one OS
// thread (the caller's), with goroutines on pooled fibers and a strategy making
// every scheduling decision, in virtual time. A run is fully determined by
// (strategy, seed, iteration). A run fails on a WEFT_ASSERT, an exception
// escaping a goroutine, a global deadlock, goroutines leaked when main returns,
// or more than max_steps steps. After a failure the schedule is shrunk (fewer
// preemptions, fewer steps, same failure) and the report describes the shrunk
// run; its schedule string replays it exactly (WEFT_REPLAY, or replay{...}).
//
// Environment (read in one place, src/explore/env.cpp):
//   WEFT_STRATEGY     random | pct[:depth] | dfs[:bound] | portfolio   (default for options::strategy)
//   WEFT_ITERATIONS   schedules to try                               (default for options::iterations)
//   WEFT_SEED         the exploration's seed; overrides options::seed (re-runs that exploration)
//   WEFT_REPLAY       a schedule string; overrides the strategy: replays exactly that run
//   WEFT_MAX_STEPS    steps per run before kind::step_bound          (default for options::max_steps)
//   WEFT_TIME_BUDGET  wall-clock budget for one explore() call: 500ms, 10s, 2m (default for time_budget)
//   WEFT_DETECT       which detectors run: "all" (default), "none", or a comma list of
//                     race, deadlock, lock_order, livelock, starvation, leak, each optionally
//                     prefixed with '-' to turn it off ("-lock_order,-starvation")
//   WEFT_LIVELOCK_WINDOW      steps without progress that make a livelock (default 20000)
//   WEFT_STARVATION_THRESHOLD times a waiter may be passed over (default 64)
// A malformed value throws config_error saying what was wrong and what to write.
//
// Outside explore (on the real scheduler), WEFT_ASSERT throws assertion_error,
// choose(n) returns 0, progress() does nothing and shared<T> is a plain value.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include "weft/source_location.hpp"
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "weft/check/report.hpp"
#include "weft/check/strategy.hpp"
#include "weft/clock.hpp"

namespace weft::check {

// The WEFT_* environment, parsed; unset variables are empty. The only place
// weft reads these variables. Throws config_error on a malformed value.
struct environment {
  std::optional<check::strategy> strategy;
  std::optional<std::uint64_t> iterations;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> replay;
  std::optional<std::uint64_t> max_steps;
  std::optional<std::chrono::nanoseconds> time_budget;
  // WEFT_DETECT: per detector, on or off; unset entries keep their defaults.
  std::optional<bool> race, deadlock, lock_order, livelock, starvation, leak;
  std::optional<std::uint64_t> livelock_window;
  std::optional<std::uint64_t> starvation_threshold;
};
environment read_environment();

namespace detail {
check::strategy default_strategy();
std::uint64_t default_iterations();
std::uint64_t default_seed();
std::uint64_t default_max_steps();
std::chrono::nanoseconds default_time_budget();
bool default_detect(check::kind k);  // WEFT_DETECT for one detector, else true
std::uint64_t default_livelock_window();
std::uint64_t default_starvation_threshold();
}  // namespace detail

// --- The detectors' settings (issue 5; docs/checkers.md has the internals) ---

// Data races: happens-before with vector clocks (FastTrack) over
// check::shared<T> and WEFT_READ/WEFT_WRITE, with exactly the edges of Go's
// memory model that weft's primitives state. The run fails (kind::race) at
// the second of two conflicting accesses that are not ordered.
struct race_options {
  bool enabled = detail::default_detect(kind::race);
};

// Deadlocks. A global deadlock (nothing can run, no timer pending) is always a
// failure. With `partial`, a cycle of goroutines each waiting for a mutex or
// rw_mutex another of them holds is reported the moment it forms, while
// other goroutines keep running, with the four Coffman conditions spelled
// out. (It assumes the goroutine that locked a mutex is the one that unlocks
// it; turn it off for a program that hands locked mutexes to other goroutines.)
struct deadlock_options {
  bool partial = detail::default_detect(kind::deadlock);
};

// Lock-order inversions (Linux's lockdep): one graph of "B taken while
// holding A" kept across every schedule of an exploration. A cycle is a
// potential deadlock even if no schedule deadlocked: the exploration goes on
// looking for a real failure, which wins; if none is found the report is
// kind::lock_order, with both orders and their sites.
struct lock_order_options {
  bool enabled = detail::default_detect(kind::lock_order);
};

// Livelocks: under fair scheduling, a run that takes `window` steps without
// progress fails (kind::livelock) with what each goroutine kept repeating.
// Progress is a goroutine finishing, a value crossing a channel (not a timer's
// tick), or check::progress(). Call progress() in long loops that do real work
// without communicating, or raise the window (keep it below max_steps).
struct livelock_options {
  bool enabled = detail::default_detect(kind::livelock);
  std::uint64_t window = detail::default_livelock_window();  // WEFT_LIVELOCK_WINDOW, else 20000
};

// Starvation: a goroutine waiting for a mutex, rw_mutex or semaphore that is
// passed over more than `threshold` times (another goroutine took the
// resource after the waiter had tried again and lost) fails the run
// (kind::starvation) with the counts. Only a waiter that got to run and try
// again counts as passed over, so a strategy that simply never schedules the
// waiter (PCT's low priority) does not make a fair program look starved.
struct starvation_options {
  bool enabled = detail::default_detect(kind::starvation);
  std::uint64_t threshold = detail::default_starvation_threshold();  // WEFT_STARVATION_THRESHOLD, else 64
};

// Goroutine leaks (goroutines still blocked or sleeping after main returned
// and nothing else could run). Like goleak's IgnoreTopFunction /
// IgnoreAnyFunction: a leaked goroutine is ignored when one of `ignore`
// occurs in the function name or the file of its creation site (where
// weft::go was called) or of its blocking site, or when ignore_if says so.
struct leak_options {
  bool enabled = detail::default_detect(kind::leak);
  std::vector<std::string> ignore;
  std::function<bool(const goroutine_info&)> ignore_if;
};

struct options {
  check::strategy strategy = detail::default_strategy();   // WEFT_STRATEGY, else portfolio{}
  std::uint64_t iterations = detail::default_iterations(); // WEFT_ITERATIONS, else 1000
  std::uint64_t seed = detail::default_seed();             // WEFT_SEED, else a fixed seed
  std::uint64_t max_steps = detail::default_max_steps();   // WEFT_MAX_STEPS, else 100000
  std::chrono::nanoseconds time_budget = detail::default_time_budget();  // WEFT_TIME_BUDGET, else none (0)
  bool stop_on_first_failure = true;
  // Per-step virtual-time advance, at most this much (0: off). While a timer
  // is pending, each interleaving point also decides how far the clock moves
  // (one of 8 evenly spaced amounts in [0, jitter]), so timeouts race with work.
  weft::duration jitter{0};
  // Extras (not read from the environment):
  bool shrink = true;                         // shrink a failing schedule before reporting it
  std::uint64_t shrink_runs = 400;            // at most this many runs spent shrinking
  std::size_t stack_size = 256 * 1024;        // per goroutine
  // The detectors (each from WEFT_DETECT and its own variable where it has one):
  race_options race;
  deadlock_options deadlock;
  lock_order_options lock_order;
  livelock_options livelock;
  starvation_options starvation;
  leak_options leaks;
};

namespace detail {
struct body_ref {
  void* obj;
  void (*call)(void*);
};
report explore(const options& opt, body_ref body, const weft::source_location& site);
}  // namespace detail

// Explore `body` (run as the main goroutine) under opt. Throws config_error for
// invalid options, and when called from inside a goroutine.
template <class F>
report explore(const options& opt, F&& body, const weft::source_location& site = weft::source_location::current()) {
  static_assert(std::is_invocable_v<std::remove_reference_t<F>&>,
                "weft::check::explore: body must be callable with no arguments");
  using B = std::remove_reference_t<F>;
  if constexpr (std::is_function_v<B>) {
    B* fn = &body;  // a plain function: explore through a pointer to it
    return explore(opt, fn, site);
  } else {
    return detail::explore(
      opt, detail::body_ref{const_cast<void*>(static_cast<const void*>(std::addressof(body))),
                              [](void* p) { (void)(*static_cast<B*>(p))(); }},
        site);
  }
}

template <class F>
report explore(F&& body, const weft::source_location& site = weft::source_location::current()) {
  return explore(options{}, std::forward<F>(body), site);
}

// A recorded, replayable choice among n alternatives: returns a value in [0, n).
// Under the explorer it is a decision like a scheduling choice (DFS enumerates
// every value); elsewhere it returns 0. n must be at least 1.
std::size_t choose(std::size_t n, const weft::source_location& where = weft::source_location::current());

// Tells the livelock detector that the program made progress. Recorded in the
// trace; no interleaving point.
void progress(const weft::source_location& where = weft::source_location::current());

// Whether the calling code runs inside an exploration.
bool exploring() noexcept;

// Fail the current run with kind::assertion and `message` (what WEFT_ASSERT
// does). Under the explorer the goroutine stops here and the run ends; on the
// real scheduler it throws assertion_error.
void fail(std::string_view message, const weft::source_location& where = weft::source_location::current());

// What WEFT_ASSERT throws outside an exploration.
class assertion_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
void assert_failed(const char* expr, const weft::source_location& where);
// Record a failure of the running iteration without stopping the goroutine (it
// stops at its next interleaving point). For test-framework glue that cannot
// switch stacks where it learns of a failure. No-op outside an exploration.
// `where` ("file:line") says what "the same failure" means when shrinking.
void note_failure(check::kind k, std::string message, std::string where);
}  // namespace detail

}  // namespace weft::check

// Check an invariant. Under the explorer a failure ends the run with
// kind::assertion, naming the expression and the site; elsewhere it throws
// weft::check::assertion_error.
#define WEFT_ASSERT(...)                                      \
  (static_cast<bool>(__VA_ARGS__)                             \
       ? static_cast<void>(0)                                 \
       : ::weft::check::detail::assert_failed(#__VA_ARGS__, ::weft::source_location::current()))
