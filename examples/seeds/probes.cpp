// Which verdicts this build of weft can reach: each probe explores a minimal
// program that is unmistakably of one kind and says whether the explorer
// reports it as that kind. The catalogue ctest skips (and weft_catalogue
// annotates) a program whose verdict needs a detector that is not there yet,
// instead of weakening what it expects.
#include <chrono>
#include <map>
#include <string>

#include <weft/weft.hpp>
#include <weft/check/explore.hpp>
#include <weft/check/shared.hpp>

#include "seeds.hpp"

using namespace std::chrono_literals;

namespace seeds {
namespace {

// Two goroutines write one plain variable with nothing ordering them.
void racy_writes() {
  weft::check::shared<int> x{0};
  weft::wait_group wg;
  wg.go([&x] { x.store(1); });
  wg.go([&x] { x.store(2); });
  wg.wait();
}

// Main spins, yielding, forever: steps, fairly scheduled, and no progress.
void spin_forever() {
  for (;;) weft::yield();
}

// The polite goroutine wants the mutex once; the greedy one takes it back
// every time it lets go, a thousand times over.
void greedy_barging() {
  weft::mutex mu;
  weft::wait_group wg;
  wg.go([&mu] {
    for (int i = 0; i < 1000; ++i) {
      mu.lock();
      weft::sleep(1ns);
      mu.unlock();
    }
  });
  wg.go([&mu] {
    weft::sleep(1ns);  // arrive while the greedy one holds it
    mu.lock();
    mu.unlock();
  });
  wg.wait();
}

// An AB-BA cycle that forms for sure while main is still running (asleep on
// a timer): only a partial-deadlock detector reports it as a deadlock; the
// global check sees a pending timer, then main returns (a leak).
void partial_ab_ba() {
  weft::mutex a, b;
  auto have_a = weft::make_chan<weft::unit>(1), have_b = weft::make_chan<weft::unit>(1);
  weft::go([&] {
    a.lock();
    have_a.send({});
    have_b.recv();
    b.lock();
  });
  weft::go([&] {
    b.lock();
    have_b.send({});
    have_a.recv();
    a.lock();
  });
  weft::sleep(1s);
}

weft::check::report probe(void (*body)(), std::uint64_t iterations) {
  weft::check::options opt;
  opt.strategy = weft::check::pct{.depth = 3};
  opt.iterations = iterations;
  opt.seed = 1;
  opt.max_steps = 100'000;
  opt.time_budget = std::chrono::nanoseconds(0);
  opt.shrink = false;
  return weft::check::explore(opt, body);
}

}  // namespace

bool detects(weft::check::kind k) {
  using weft::check::kind;
  static std::map<kind, bool> known;  // probes are deterministic: run each once
  if (auto it = known.find(k); it != known.end()) return it->second;
  bool found = true;  // the explorer's own verdicts
  switch (k) {
    case kind::race:
      found = probe(racy_writes, 10).kind == kind::race;
      break;
    case kind::livelock:
      found = probe(spin_forever, 1).kind == kind::livelock;
      break;
    case kind::starvation:
      found = probe(greedy_barging, 50).kind == kind::starvation;
      break;
    default:
      break;
  }
  known[k] = found;
  return found;
}

bool detects_partial_deadlock() {
  static const bool found = probe(partial_ab_ba, 1).kind == weft::check::kind::deadlock;
  return found;
}

}  // namespace seeds
