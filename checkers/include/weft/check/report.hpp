// weft::check::report — what an exploration found.
//
//   auto r = weft::check::explore(opt, body);
//   EXPECT_TRUE(r.ok()) << r;          // kind, goroutines, last steps, replay line
//   r.write_perfetto(file);            // open in ui.perfetto.dev
//   r.write_dot(file);                 // who waits for whom (Graphviz)
//
// A failing report describes one run: the (shrunk) schedule that fails, the
// goroutines involved with their creation and blocking sites, and the run's
// steps. Every report is printed by one renderer, the same way for every kind
// (STYLE.md 7). Objects are named by kind and order of first appearance
// ("chan#1", "mutex#2"), never by address, so a replayed report is identical to
// the original, byte for byte.
#pragma once

#include <cstdint>
#include <iosfwd>
#include "weft/source_location.hpp"
#include <string>
#include <vector>

namespace weft::check {

// The closed list of outcomes (STYLE.md 7). Tests say which one they expect.
enum class kind {
  ok,
  assertion,       // WEFT_ASSERT (or a test expectation) failed
  panic,           // an exception or weft::panic_error escaped a goroutine
  deadlock,        // nothing can run, no timer pending, main has not returned
  leak,            // goroutines still blocked or sleeping once main returned and nothing could run
  race,            // two unordered conflicting plain accesses (issue 5)
  lock_order,      // lock-order inversion (issue 5)
  livelock,        // steps without progress (issue 5)
  starvation,      // a runnable goroutine never runs (issue 5)
  step_bound,      // the run exceeded options::max_steps
  nondeterminism,  // a replay diverged from its schedule
};
const char* to_string(kind k) noexcept;

struct held_resource {
  std::string name;  // "mutex#1"
  std::string mode;  // "locked", "read-locked", "write-locked", "acquired"
  weft::source_location acquired_at{};
};

struct goroutine_info {
  std::uint64_t id = 0;
  std::uint64_t parent = 0;  // the spawning goroutine; 0 for main and timer-started ones
  bool is_main = false;
  std::string state;        // "running", "runnable", "blocked", "sleeping"
  std::string wait_reason;  // Go's wait reason ("chan receive"); empty unless blocked
  std::string waiting_on;   // the object it waits on ("chan#1"); may be empty
  std::string last_op;      // the last interleaving point it reached ("chan_send chan#1")
  weft::source_location created_at{};
  weft::source_location blocked_at{};  // where it blocked, or where it failed
  std::vector<held_resource> holds;
};

// One row of the trace: something a goroutine (or the scheduler, goroutine 0)
// did at a step.
struct step {
  std::uint64_t index = 0;      // 1-based step number
  std::uint64_t goroutine = 0;  // 0: the scheduler (clock, timers)
  std::string action;           // "chan_send chan#1", "blocks: chan receive on chan#1", ...
  std::int64_t time_ns = 0;     // virtual time since the run began
};

class report {
 public:
  bool ok() const noexcept { return kind == check::kind::ok; }

  check::kind kind = check::kind::ok;
  std::string message;
  std::vector<goroutine_info> goroutines;  // the goroutines involved
  std::string schedule;                    // replay with WEFT_REPLAY='<schedule>'
  // The text report's last line, which reproduces the run; empty: the default,
  // WEFT_REPLAY='<schedule>' (the GoogleTest glue adds the binary and filter).
  std::string replay_command;
  std::string strategy;                    // what found it, e.g. "pct:3"
  std::uint64_t seed = 0;                  // the exploration's seed (WEFT_SEED)
  std::uint64_t iteration = 0;             // 1-based: the n-th schedule tried
  std::uint64_t steps = 0;                 // steps in the failing run
  std::uint64_t preemptions = 0;           // switches away from a goroutine that could have gone on
  std::int64_t time_ns = 0;                // virtual time the failing run took
  std::vector<step> trace;                 // the failing run's steps, oldest first

  // About the exploration as a whole (not part of the failing run: a replay
  // reports its own).
  std::uint64_t iterations = 0;  // schedules explored
  std::uint64_t failures = 0;    // failing schedules (more than one only with stop_on_first_failure off)
  std::uint64_t explored_steps = 0;  // steps taken by all runs (shrinking and repeats included)
  bool exhausted = false;        // DFS tried every schedule (within its bound)
  std::string note;              // e.g. how far shrinking got, why exploration stopped

  // The text report (operator<< prints it): kind, message, goroutines, the last
  // `last_steps` steps as a table with one column per goroutine, and the replay
  // line.
  void write_text(std::ostream& out, std::size_t last_steps = 40) const;
  std::string text(std::size_t last_steps = 40) const;
  // Chrome/Perfetto Trace Event Format JSON: one track per goroutine, one slice
  // per step (1 µs of trace time per step), blocked intervals as slices too.
  void write_perfetto(std::ostream& out) const;
  // Graphviz DOT wait-for graph at the failure: goroutines waiting on objects,
  // objects held by goroutines.
  void write_dot(std::ostream& out) const;
};

std::ostream& operator<<(std::ostream& out, const report& r);

}  // namespace weft::check
