// The catalogue of seed programs, and the one place they are explored from.
#include <cstdarg>
#include <cstdio>

#include <weft/check/explore.hpp>

#include "seeds.hpp"

namespace seeds {

void say(const char* format, ...) {
  if (weft::check::exploring()) return;
  std::va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
  std::fflush(stdout);
}

std::string_view to_string(variant v) noexcept { return v == variant::bad ? "bad" : "fixed"; }

std::span<const program> catalogue() {
  using weft::check::kind;
  static const program programs[] = {
      {.name = "print_sum",
       .title = "printSum (AB-BA deadlock)",
       .bug = "two goroutines lock the same two mutexes in opposite orders",
       .fix = "both lock the two values in one global order (by rank)",
       .expected = kind::deadlock,
       .bad = print_sum_bad,
       .fixed = print_sum_fixed,
       .budget = 1000},
      {.name = "hallway",
       .title = "the hallway (livelock)",
       .bug = "Alice and Barbara step aside in cadence, to the same side, forever",
       .fix = "each gives up after 5 tries",
       .expected = kind::livelock,
       .bad = hallway_bad,
       .fixed = hallway_fixed,
       .budget = 500},
      {.name = "greedy_polite",
       .title = "greedy vs polite worker (starvation)",
       .bug = "the greedy worker re-takes the mutex ahead of the polite one, which waits",
       .fix = "a FIFO lock (weft::semaphore) serves each waiter in turn",
       .expected = kind::starvation,
       .bad = greedy_polite_bad,
       .fixed = greedy_polite_fixed,
       .budget = 200},
      {.name = "account",
       .title = "Account.Withdraw (check-then-act race)",
       .bug = "two withdrawals check the balance, then subtract, with nothing between",
       .fix = "the check and the update under the account's mutex",
       .expected = kind::race,
       .bad = account_bad,
       .fixed = account_fixed,
       .budget = 2000},
      {.name = "counter",
       .title = "Counter++ (data race)",
       .bug = "two goroutines increment a plain int",
       .fix = "the increment under a mutex",
       .expected = kind::race,
       .bad = counter_bad,
       .fixed = counter_fixed,
       .budget = 2000},
      {.name = "do_work",
       .title = "doWork on a nil channel (goroutine leak)",
       .bug = "doWork's goroutine ranges over a nil channel and can never end",
       .fix = "a done channel that main closes, and main waits for the goroutine",
       .expected = kind::leak,
       .bad = do_work_bad,
       .fixed = do_work_fixed,
       .budget = 1000},
      {.name = "rand_stream",
       .title = "newRandStream (producer leak)",
       .bug = "the consumer stops after three numbers; the producer blocks in its next send",
       .fix = "a done channel for the producer, and a WaitGroup to wait for it",
       .expected = kind::leak,
       .bad = rand_stream_bad,
       .fixed = rand_stream_fixed,
       .budget = 1000},
      {.name = "tracker",
       .title = "fire-and-forget tracker (goroutine leak)",
       .bug = "each request starts an event goroutine that nobody waits for",
       .fix = "Tracker counts its goroutines in a WaitGroup and Shutdown waits",
       .expected = kind::leak,
       .bad = tracker_bad,
       .fixed = tracker_fixed,
       .budget = 1000},
      {.name = "config",
       .title = "the config slice (data race)",
       .bug = "a writer replaces the config while readers read it",
       .fix = "the config is a weft::atomic_value, replaced as a whole",
       .expected = kind::race,
       .bad = config_bad,
       .fixed = config_fixed,
       .budget = 1000},
  };
  return programs;
}

const program* find(std::string_view name) {
  for (const program& p : catalogue())
    if (p.name == name) return &p;
  return nullptr;
}

weft::check::options options_for(const program& p, weft::check::options base) {
  base.iterations = p.budget;
  if (p.max_steps != 0) base.max_steps = p.max_steps;
  return base;
}

weft::check::report explore(const program& p, variant v, const weft::check::options& opt) {
  return weft::check::explore(opt, p.body(v));
}

}  // namespace seeds
