// The livelock detector, under every strategy: the hallway of *Concurrency in
// Go* (the seed catalogue's, examples/seeds/hallway.cpp, restated here so the
// test stands alone) is a livelock when nobody gives up, and fine when each
// gives up after 5 tries; busy loops that make progress, or that wait for
// someone else's progress, are no livelock.
#include <chrono>
#include <string>

#include "detect_helpers.hpp"

using namespace std::chrono_literals;
using namespace detect_test;

namespace {

class LivelockDetector : public strategy_test {};

constexpr int forever = 0;

struct hallway {
  weft::mutex mu;
  weft::cond cadence{mu};
  weft::atomic<int> left{0};
  weft::atomic<int> right{0};
  weft::atomic<bool> empty{false};
};

void take_step(hallway& h) {
  h.mu.lock();
  h.cadence.wait();
  h.mu.unlock();
}

bool try_dir(hallway& h, weft::atomic<int>& dir) {
  dir.fetch_add(1);
  take_step(h);
  if (dir.load() == 1) return true;  // nobody else leans this way: pass
  take_step(h);
  dir.fetch_sub(1);
  return false;
}

void walk(hallway& h, int tries) {
  for (int i = 1; tries == forever || i <= tries; ++i)
    if (try_dir(h, h.left) || try_dir(h, h.right)) return;
}

// Goroutine 2 is the beat (every millisecond, everyone waiting moves);
// goroutines 3 and 4 are Alice and Barbara.
void hallway_with(int tries) {
  hallway h;
  weft::wait_group beat;
  beat.go([&h] {
    while (!h.empty.load()) {
      weft::sleep(1ms);
      h.cadence.broadcast();
    }
  });
  weft::wait_group people;
  people.go([&h, tries] { walk(h, tries); });
  people.go([&h, tries] { walk(h, tries); });
  people.wait();
  h.empty.store(true);
  beat.wait();
}

}  // namespace

TEST_P(LivelockDetector, TheHallwayThatNeverGivesUpIsALivelock) {
  auto body = [] { hallway_with(forever); };
  auto o = opts(50);
  o.livelock.window = 3000;  // the default (20 000) works too, but costs a second per strategy
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::livelock) << r;
  EXPECT_GT(r.steps_without_progress, o.livelock.window) << r;
  EXPECT_EQ(r.message, "no progress for " + std::to_string(r.steps_without_progress) +
                           " steps while goroutines 2, 3 and 4 kept running")
      << r;
  // Each kept repeating the same cycle of steps; the walkers' cycle is the
  // hallway's: lean, wait for the beat, look, wait, step back.
  ASSERT_EQ(r.loops.size(), 3u) << r;
  for (const auto& l : r.loops) {
    EXPECT_GT(l.repeats, 1u) << "goroutine " << l.goroutine << "\n" << r;
    EXPECT_FALSE(l.actions.empty());
  }
  for (std::size_t i = 1; i < 3; ++i) {
    const auto& walker = r.loops[i];
    EXPECT_EQ(walker.goroutine, i + 2);
    std::string all;
    for (const auto& a : walker.actions) all += a + "; ";
    EXPECT_TRUE(contains(all, "atomic_rmw atomic#")) << all;
    EXPECT_TRUE(contains(all, "cond_wait cond#1")) << all;
    EXPECT_TRUE(contains(all, "blocks: sync.Cond.Wait on cond#1")) << all;
  }
  std::string beat;
  for (const auto& a : r.loops[0].actions) beat += a + "; ";
  EXPECT_TRUE(contains(beat, "cond_broadcast cond#1")) << beat;
  // The evidence, as the text prints it.
  const std::string loops = section_text(r, "what each goroutine kept doing");
  EXPECT_TRUE(contains(loops, "goroutine 3 repeats these ")) << loops;
  EXPECT_TRUE(contains(section_text(r, "why it is a livelock"), "the last was never, in this run") ||
              contains(section_text(r, "why it is a livelock"), "the last was at step "))
      << r;
  expect_replays(r, body, o);
}

TEST_P(LivelockDetector, TheHallwayThatGivesUpAfterFiveTriesIsClean) {
  auto body = [] { hallway_with(5); };
  const report r = explore(opts(explore_test::scaled(200)), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LivelockDetector, ALongLoopThatCallsProgressIsNoLivelock) {
  // 3 000 steps of work without communicating, over a 1 000-step window.
  auto body = [] {
    weft::atomic<int> sum{0};
    weft::wait_group wg;
    wg.go([&] {
      for (int i = 0; i < 3000; ++i) {
        sum.fetch_add(i);
        weft::check::progress();
      }
    });
    wg.wait();
  };
  auto o = opts(explore_test::scaled(20));
  o.livelock.window = 1000;
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LivelockDetector, TheSameLoopWithoutProgressIsALivelock) {
  // What the window means: the detector cannot tell useful work from
  // spinning, so a long loop that never says so is reported.
  auto body = [] {
    weft::atomic<int> sum{0};
    weft::wait_group wg;
    wg.go([&] {
      for (int i = 0; i < 3000; ++i) sum.fetch_add(i);
    });
    wg.wait();
  };
  auto o = opts(5);
  o.livelock.window = 1000;
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::livelock) << r;
  ASSERT_EQ(r.loops.size(), 1u) << r;
  EXPECT_EQ(r.loops[0].goroutine, 2u);
  ASSERT_EQ(r.loops[0].actions.size(), 1u) << r;
  EXPECT_EQ(r.loops[0].actions[0], "atomic_rmw atomic#1");
}

TEST_P(LivelockDetector, ASpinLoopWaitingForAFlagSetLaterIsNoLivelock) {
  // Main spins with yield for a flag; goroutine 2 sets it after passing 3 000
  // values to goroutine 3 over a channel: progress all along, and the spin
  // lasts far longer than the window.
  auto body = [] {
    weft::atomic<bool> flag{false};
    auto ch = weft::make_chan<int>();
    weft::wait_group wg;
    wg.go([&, ch] {
      for (int i = 0; i < 3000; ++i) ch.send(i);
      ch.close();
      flag.store(true);
    });
    wg.go([ch] {
      for (int v : ch) (void)v;
    });
    while (!flag.load()) weft::yield();
    wg.wait();
  };
  auto o = opts(explore_test::scaled(20));
  o.livelock.window = 1000;
  o.max_steps = 200000;
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LivelockDetector, ASpinLoopWaitingForAFlagSetAfterAShortWhileIsNoLivelock) {
  // The same wait where the setter does a little work first (under the window).
  auto body = [] {
    weft::atomic<bool> flag{false};
    weft::atomic<int> work{0};
    weft::wait_group wg;
    wg.go([&] {
      for (int i = 0; i < 100; ++i) work.fetch_add(1);
      flag.store(true);
    });
    while (!flag.load()) weft::yield();
    wg.wait();
  };
  auto o = opts(explore_test::scaled(200));
  o.livelock.window = 1000;
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LivelockDetector, ASpinLoopForAFlagNobodySetsIsALivelock) {
  auto body = [] {
    weft::atomic<bool> flag{false};
    while (!flag.load()) weft::yield();
  };
  auto o = opts(5);
  o.livelock.window = 1000;
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::livelock) << r;
  ASSERT_EQ(r.loops.size(), 1u) << r;
  EXPECT_EQ(r.loops[0].goroutine, 1u);
  EXPECT_EQ(r.loops[0].actions.size(), 2u) << r;  // load the flag, yield
}

TEST_P(LivelockDetector, TurnedOffTheHallwayRunsIntoTheStepBound) {
  auto body = [] { hallway_with(forever); };
  auto o = opts(1);
  o.livelock.enabled = false;
  o.max_steps = 5000;
  o.shrink = false;
  const report r = explore(o, body);
  EXPECT_EQ(r.kind, kind::step_bound) << r;
}

INSTANTIATE_TEST_SUITE_P(Strategies, LivelockDetector, ::testing::ValuesIn(every_strategy()), param_name);
