// Virtual time (Go's testing/synctest rule): the clock starts at a fixed
// instant, moves only when no goroutine can run, straight to the next timer,
// and every timer due at that instant fires then, in an order that is itself a
// decision. Jitter lets time move during work so timeouts race with it.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include <weft/weft.hpp>

#include "helpers.hpp"

using namespace std::chrono_literals;
using explore_test::opts;

TEST(VirtualTime, ATenSecondTimeoutTakesNoRealTime) {
  const auto wall = std::chrono::steady_clock::now();
  auto r = weft::check::explore(opts(weft::check::random{}, 200), [] {
    const auto start = weft::now();
    auto never = weft::make_chan<int>();
    const std::size_t i = weft::select(weft::on_recv(never), weft::on_recv(weft::after(10s)));
    WEFT_ASSERT(i == 1);
    WEFT_ASSERT(weft::now() - start == 10s);
  });
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - wall, 5s) << "200 runs of a 10 s timeout";
}

TEST(VirtualTime, EveryRunStartsAtTheSameInstant) {
  std::set<weft::time_point> starts;
  auto r = weft::check::explore(opts(weft::check::random{}, 50), [&] {
    starts.insert(weft::now());
    weft::sleep(1s);
  });
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(starts.size(), 1u);
}

TEST(VirtualTime, TheClockMovesOnlyWhenNothingCanRun) {
  auto r = weft::check::explore(opts(weft::check::random{}, 200), [] {
    const auto start = weft::now();
    weft::check::shared<int> work{0};
    auto done = weft::make_chan<weft::time_point>(1);
    weft::go([&, done] {
      for (int i = 0; i < 20; ++i) work += 1;
      done.send(weft::now());
    });
    weft::sleep(5ms);
    // The worker could always run, so no time passed until it finished.
    WEFT_ASSERT(*done.recv() == start);
    WEFT_ASSERT(weft::now() == start + 5ms);
  });
  EXPECT_TRUE(r.ok()) << r;
}

TEST(VirtualTime, TimersDueAtOneInstantAllFireThenInEveryOrder) {
  std::set<std::size_t> winners;
  auto r = weft::check::explore(opts(weft::check::dfs{}, 10'000), [&] {
    const auto start = weft::now();
    const std::size_t i = weft::select(weft::on_recv(weft::after(1s)), weft::on_recv(weft::after(1s)));
    winners.insert(i);
    WEFT_ASSERT(weft::now() == start + 1s);
  });
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(winners, (std::set<std::size_t>{0, 1}));
}

TEST(VirtualTime, SleepersWithOneDeadlineWakeTogether) {
  auto r = weft::check::explore(opts(weft::check::random{}, 100), [] {
    const auto deadline = weft::now() + 3ms;
    auto woke = weft::make_chan<weft::time_point>(3);
    for (int i = 0; i < 3; ++i)
      weft::go([=] {
        weft::sleep_until(deadline);
        woke.send(weft::now());
      });
    for (int i = 0; i < 3; ++i) WEFT_ASSERT(*woke.recv() == deadline);
  });
  EXPECT_TRUE(r.ok()) << r;
}

TEST(VirtualTime, TickersTickAtExactMultiples) {
  auto r = weft::check::explore(opts(weft::check::random{}, 20), [] {
    const auto start = weft::now();
    auto tk = weft::new_ticker(10ms);
    for (int i = 1; i <= 5; ++i) WEFT_ASSERT(*tk.c().recv() == start + i * 10ms);
    tk.stop();
  });
  EXPECT_TRUE(r.ok()) << r;
}

TEST(VirtualTime, AfterFuncRunsAtItsDeadlineInItsOwnGoroutine) {
  auto r = weft::check::explore(opts(weft::check::random{}, 20), [] {
    const auto start = weft::now();
    auto ran = weft::make_chan<weft::time_point>(1);
    auto t = weft::after_func(2s, [ran] { ran.send(weft::now()); });
    WEFT_ASSERT(*ran.recv() == start + 2s);
  });
  EXPECT_TRUE(r.ok()) << r;
}

TEST(VirtualTime, SpinningAloneLetsAPendingTimerFire) {
  auto r = weft::check::explore(opts(weft::check::random{}, 20), [] {
    const auto start = weft::now();
    weft::atomic<bool> flag{false};
    weft::go([&] {
      weft::sleep(1s);
      flag.store(true);
    });
    while (!flag.load()) weft::yield();
    WEFT_ASSERT(weft::now() - start >= 1s);
  });
  EXPECT_TRUE(r.ok()) << r;
}

namespace {
// A worker doing 20 steps of work against a 1 ms timeout.
std::set<std::size_t> race_outcomes(weft::duration jitter) {
  std::set<std::size_t> outcomes;
  auto o = opts(weft::check::random{}, 500);
  o.jitter = jitter;
  auto r = weft::check::explore(o, [&] {
    weft::check::shared<int> work{0};
    auto result = weft::make_chan<int>(1);
    weft::go([&, result] {
      for (int i = 0; i < 20; ++i) work += 1;
      result.send(1);
    });
    outcomes.insert(weft::select(weft::on_recv(result), weft::on_recv(weft::after(1ms))));
    weft::sleep(1s);  // let the worker finish either way
  });
  EXPECT_TRUE(r.ok()) << r;
  return outcomes;
}
}  // namespace

TEST(VirtualTime, WithoutJitterWorkAlwaysBeatsATimeout) {
  EXPECT_EQ(race_outcomes(0ms), (std::set<std::size_t>{0}));
}

TEST(VirtualTime, JitterLetsTimeoutsRaceWithWork) {
  // ~40 interleaving points of work, each moving the clock by up to 50 us
  // (25 us on average under random): about half the runs time out.
  EXPECT_EQ(race_outcomes(50us), (std::set<std::size_t>{0, 1}));
}

TEST(VirtualTime, JitterIsARecordedDecision) {
  auto body = [] {
    weft::check::shared<int> work{0};
    auto result = weft::make_chan<int>(1);
    weft::go([&, result] {
      for (int i = 0; i < 20; ++i) work += 1;
      result.send(1);
    });
    const std::size_t i = weft::select(weft::on_recv(result), weft::on_recv(weft::after(1ms)));
    WEFT_ASSERT(i == 0);  // fails whenever the timeout wins
    weft::sleep(1s);
  };
  auto run = [&](const weft::check::options& o) { return weft::check::explore(o, body); };
  auto o = opts(weft::check::random{}, 500);
  o.jitter = 200us;
  auto found = run(o);
  ASSERT_EQ(found.kind, weft::check::kind::assertion) << found;
  auto replayed = run(opts(weft::check::replay{found.schedule}, 1));  // the jitter bound comes with the schedule
  EXPECT_EQ(replayed.text(), found.text());
}
