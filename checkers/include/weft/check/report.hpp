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
  deadlock,        // nothing can run, no timer pending, main has not returned (global); or
                   // goroutines each waiting for a lock another of them holds (partial)
  leak,            // goroutines still blocked or sleeping once main returned and nothing could run
  race,            // two unordered conflicting plain accesses, at least one a write
  lock_order,      // locks taken in opposite orders: a deadlock waiting to happen (no run deadlocked)
  livelock,        // goroutines keep running under fair scheduling without making progress
  starvation,      // a goroutine passed over on a lock or semaphore again and again while others take it
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
  std::string state;        // "running", "runnable", "blocked", "sleeping", or "finished" (a
                            // goroutine the failure involves that had already ended, e.g. a
                            // race's earlier access: only its id, parent and creation site)
  std::string wait_reason;  // Go's wait reason ("chan receive"); empty unless blocked
  std::string waiting_on;   // the object it waits on ("chan#1"); may be empty
  std::string last_op;      // the last interleaving point it reached ("chan_send chan#1")
  weft::source_location created_at{};
  weft::source_location blocked_at{};  // where it blocked, or where it failed
  std::vector<held_resource> holds;
};

// --- What the detectors found (filled for their kinds; empty otherwise) ---

// A plain memory access as the race detector saw it (kind::race: the earlier
// access first, then the one that conflicts with it).
struct access {
  std::uint64_t goroutine = 0;
  bool write = false;
  std::string object;               // "var#1", named like every object in the report
  std::size_t size = 0;             // bytes
  weft::source_location site{};     // where the access was made
  std::uint64_t step = 0;           // the step it was made at
};

// One link of a cycle: goroutine `goroutine` holds `holds` (taken at
// `held_at`) while it waits for, or goes on to take, `wants` (requested at
// `wanted_at`). kind::deadlock: the wait-for cycle, each link waiting for the
// next link's `holds`. kind::lock_order: one acquisition order per link (it
// took `holds`, then `wants`), first seen in schedule `iteration`.
struct cycle_link {
  std::uint64_t goroutine = 0;
  std::string holds;                // "mutex#1"
  std::string hold_mode;            // "locked", "read-locked", "write-locked", "acquired", or (deadlock)
                                    // "queued to write-lock": it holds no part of `holds` but is a
                                    // writer waiting for it, and new readers wait behind it
  weft::source_location held_at{};
  std::string wants;                // "mutex#2"
  std::string want_mode;            // "lock", "read-lock", "write-lock", "acquire"
  weft::source_location wanted_at{};
  std::uint64_t iteration = 0;      // lock_order: the (1-based) schedule that showed this order
};

// kind::starvation: a goroutine that kept losing a lock or semaphore.
struct starved_waiter {
  struct acquirer {
    std::uint64_t goroutine = 0;
    std::uint64_t times = 0;        // acquisitions while the starved goroutine waited
    weft::source_location site{};   // where it last acquired
  };
  std::uint64_t goroutine = 0;
  std::string resource;             // "mutex#1"
  weft::source_location requested_at{};
  std::uint64_t passed_over = 0;    // acquisitions by others since it began to wait
  std::uint64_t acquired_before = 0;  // times it did get the resource earlier in the run
  std::vector<acquirer> others;     // who acquired meanwhile, most often first
};

// kind::livelock: what one goroutine kept doing without progress.
struct loop_info {
  std::uint64_t goroutine = 0;
  std::vector<std::string> actions;  // one period of its repeating steps ("atomic_rmw atomic#1", ...)
  std::uint64_t repeats = 0;         // full periods in the window (0: no exact period; actions = its last steps)
};

// A titled paragraph of evidence, as the text report prints it under the
// message (the Coffman conditions of a deadlock, the two accesses of a race, ...).
struct detail_section {
  std::string title;
  std::vector<std::string> lines;
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

  // What the detector behind `kind` found (issue 5); see the structs above.
  std::vector<detail_section> details;     // the evidence, as the text report prints it
  std::vector<access> accesses;            // race: the two conflicting accesses
  std::vector<cycle_link> cycle;           // deadlock (a wait-for cycle) / lock_order (the inverted orders)
  std::vector<starved_waiter> starved;     // starvation
  std::vector<loop_info> loops;            // livelock: each looping goroutine's cycle
  std::uint64_t steps_without_progress = 0;  // livelock

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
  // objects held by goroutines; a deadlock's cycle in red. For lock_order, the
  // lock-order graph's cycle (locks, and the orders in which they were taken).
  void write_dot(std::ostream& out) const;
};

std::ostream& operator<<(std::ostream& out, const report& r);

}  // namespace weft::check
