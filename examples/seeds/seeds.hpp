// The seed programs: the classic concurrency bugs of *Concurrency in Go* and
// its companions, each as a bad version and its corrected twin, ported to weft.
//
//   seeds::print_sum_bad();        // run it on the real scheduler ...
//   weft::run([] { seeds::print_sum_bad(); });
//   weft::check::explore(opt, seeds::print_sum_bad);   // ... or explore it
//
// Every function is a whole program's main goroutine: it starts its
// goroutines and returns when the program would end. The same code runs on the
// real scheduler (weft::run, where a deadlock throws "all goroutines are
// asleep" and a race may or may not show) and under the explorer, which proves
// the twin correct over its budget of schedules and shows, with a replayable
// schedule, what is wrong with the bad version. Shared memory is a
// weft::check::shared<T> (a plain value outside an exploration), so the race
// detector sees every access.
//
// catalogue() lists them with the verdict exploring each bad version must
// reach; the catalogue ctest (catalogue_test.cpp) and the main job
// (weft_catalogue) both run from it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <weft/check/explore.hpp>
#include <weft/check/report.hpp>

namespace seeds {

// printSum: two goroutines lock a then b, and b then a (AB-BA). Twin: both
// lock in one global order, so no cycle of waits can form.
void print_sum_bad();
void print_sum_fixed();

// The hallway: Alice and Barbara step aside in cadence, both to the same side,
// again and again. Bad: they never give up (livelock). Twin: each gives up
// after 5 tries (the seed's own version).
void hallway_bad();
void hallway_fixed();

// Greedy vs polite worker: both need one lock for the same amount of work;
// the greedy one holds it for its whole loop, the polite one takes it three
// times. Bad: a plain mutex lets the greedy worker barge back in ahead of the
// waiting polite one (starvation). Twin: a FIFO lock (weft::semaphore).
void greedy_polite_bad();
void greedy_polite_fixed();

// Account.Withdraw: check the balance, then subtract, with nothing making the
// two steps one (a check-then-act race; the balance can go negative). Twin:
// the account's mutex around the check and the update.
void account_bad();
void account_fixed();

// Counter++ from two goroutines with no synchronisation (a race, though the
// total is usually right). Twin: a mutex around the increment.
void counter_bad();
void counter_fixed();

// doWork: a goroutine ranging over a nil channel, which blocks forever (a
// leak). Twin: a done channel that main closes, and main waits for the
// goroutine to finish.
void do_work_bad();
void do_work_fixed();

// newRandStream: a producer sending random numbers forever to a consumer that
// takes three and leaves (a leak: the producer is stuck in a send). Twin: a
// done channel and a WaitGroup.
void rand_stream_bad();
void rand_stream_fixed();

// The fire-and-forget tracker: a request handler starts a goroutine per event
// and nobody knows when it ends (a leak when the program stops). Twin: the
// tracker counts its goroutines in a WaitGroup and Shutdown waits for them.
void tracker_bad();
void tracker_fixed();

// The config slice: a writer replaces a config while readers read it (a
// race). Twin: the config is a weft::atomic_value, replaced as a whole.
void config_bad();
void config_fixed();

// Prints like printf, but only on the real scheduler: under the explorer the
// programs run thousands of times and stay silent.
void say(const char* format, ...) __attribute__((format(printf, 1, 2)));

// --- The catalogue ----------------------------------------------------------

enum class variant { bad, fixed };
std::string_view to_string(variant v) noexcept;

struct program {
  std::string_view name;     // "print_sum": the standalone binary is weft_seed_<name>
  std::string_view title;    // the seed's name for it: "printSum (AB-BA deadlock)"
  std::string_view bug;      // what is wrong with the bad version, one sentence
  std::string_view fix;      // what the twin does instead, one sentence
  weft::check::kind expected;  // what exploring the bad version must report
  void (*bad)();
  void (*fixed)();
  // Schedules to explore: the bad version's verdict must come within it, and
  // the twin must stay clean over all of it.
  std::uint64_t budget;
  // Steps per run before step_bound (0: the explorer's default).
  std::uint64_t max_steps = 0;

  void (*body(variant v) const)() { return v == variant::bad ? bad : fixed; }
  weft::check::kind expected_for(variant v) const {
    return v == variant::bad ? expected : weft::check::kind::ok;
  }
};

// Every seed program, in the order the seeds tell them.
std::span<const program> catalogue();
// The program named `name`, or null.
const program* find(std::string_view name);

// The options a program is explored with: `base` (whose defaults come from the
// WEFT_* environment) with the program's budget and step bound.
weft::check::options options_for(const program& p, weft::check::options base);

// Explore one variant of a program. Every exploration of a seed goes through
// this one call site, so a replay (replay{schedule} or WEFT_REPLAY) of a
// report, from the ctest or from weft_catalogue, reproduces it byte for byte.
weft::check::report explore(const program& p, variant v, const weft::check::options& opt);


// Whether this build's explorer reaches verdict `k` at all: explores a minimal
// program that is unmistakably of that kind (a probe). The explorer's own
// verdicts (assertion, panic, deadlock, leak, step_bound) are always there;
// race, livelock and starvation come with the detectors of issue 5.
bool detects(weft::check::kind k);
// Whether deadlocks are found as soon as a cycle of waits forms, while other
// goroutines still run (a partial deadlock), with the Coffman conditions.
bool detects_partial_deadlock();

}  // namespace seeds
