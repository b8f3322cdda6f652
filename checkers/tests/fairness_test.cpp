// Fairness (CHESS, and PCT's treatment of yields): a goroutine that yields or
// sleeps is deprioritised, so spin loops that yield make progress under every
// strategy; the shared-memory hooks are interleaving points.
#include <gtest/gtest.h>

#include <weft/weft.hpp>

#include "helpers.hpp"

using explore_test::opts;

namespace {

std::vector<weft::check::strategy> strategies() {
  return {weft::check::random{},          weft::check::pct{.depth = 1}, weft::check::pct{.depth = 3},
          weft::check::portfolio{},       weft::check::dfs{.preemption_bound = 2}};
}

// The racy raw accesses below are the point of the test: hide them from
// ThreadSanitizer (weft's own race detector is what should judge them).
#if WEFT_TSAN
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif
template <class F>
auto tsan_invisible(F&& f) {
#if WEFT_TSAN
  __tsan_ignore_thread_begin();
  auto v = f();
  __tsan_ignore_thread_end();
  return v;
#else
  return f();
#endif
}

}  // namespace

TEST(Fairness, SpinLoopsThatYieldMakeProgressUnderEveryStrategy) {
  for (const auto& s : strategies()) {
    auto o = opts(s, explore_test::scaled(300));
    o.max_steps = 5000;
    auto r = weft::check::explore(o, [] {
      weft::atomic<int> stage{0};
      weft::wait_group wg;
      wg.go([&] {
        for (int i = 0; i < 20; ++i) weft::check::shared<int>{0}.load();  // some work first
        stage.store(1);
        while (stage.load() != 2) weft::yield();
      });
      while (stage.load() != 1) weft::yield();
      stage.store(2);
      wg.wait();
    });
    EXPECT_TRUE(r.ok()) << weft::check::to_string(s) << "\n" << r;
  }
}

TEST(Fairness, SleepingForNoTimeIsAYield) {
  for (const auto& s : strategies()) {
    auto o = opts(s, explore_test::scaled(200));
    o.max_steps = 5000;
    auto r = weft::check::explore(o, [] {
      weft::atomic<bool> flag{false};
      weft::go([&] {
        weft::check::shared<int> w{0};
        for (int i = 0; i < 10; ++i) w += 1;
        flag.store(true);
      });
      while (!flag.load()) weft::sleep(std::chrono::nanoseconds(0));
    });
    EXPECT_TRUE(r.ok()) << weft::check::to_string(s) << "\n" << r;
  }
}

TEST(Fairness, ASpinLoopWithoutYieldCanStarveUnderPct) {
  // Fairness needs a yield: a busy loop that only polls (each poll is an
  // interleaving point) may be run forever by a strategy that prefers it;
  // the step bound reports it.
  auto o = opts(weft::check::pct{.depth = 1}, 200);
  o.max_steps = 2000;
  auto r = weft::check::explore(o, [] {
    weft::atomic<bool> flag{false};
    weft::go([&] { flag.store(true); });
    while (!flag.load()) {
    }
  });
  EXPECT_EQ(r.kind, weft::check::kind::step_bound) << r;
}

TEST(SharedMemory, RawAccessMacrosAreInterleavingPoints) {
  // A read-modify-write on raw memory, described with WEFT_READ/WEFT_WRITE,
  // loses updates under some interleavings, which DFS finds.
  auto r = weft::check::explore(explore_test::without_race_detector(opts(weft::check::dfs{}, 10'000)), [] {
    auto counter = std::make_shared<int>(0);
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i)
      wg.go([counter] {
        WEFT_READ(counter.get(), sizeof(int));
        const int v = tsan_invisible([&] { return *counter; });
        WEFT_WRITE(counter.get(), sizeof(int));
        tsan_invisible([&] { return *counter = v + 1; });
      });
    wg.wait();
    WEFT_ASSERT(*counter == 2);
  });
  ASSERT_EQ(r.kind, weft::check::kind::assertion) << r;
  bool saw_read = false;
  for (const auto& s : r.trace) saw_read |= s.action.rfind("reads var#", 0) == 0;
  EXPECT_TRUE(saw_read);
}

TEST(SharedMemory, SharedWorksForAnyCopyableType) {
  auto r = weft::check::explore(opts(weft::check::random{}, 50), [] {
    weft::check::shared<std::string> s{std::string("x")};
    weft::check::shared<std::vector<int>> v;
    weft::wait_group wg;
    wg.go([&] { v = std::vector<int>{1, 2, 3}; });
    wg.wait();
    s = s.load() + "y";
    WEFT_ASSERT(s.load() == "xy");
    WEFT_ASSERT(v.load().size() == 3);
  });
  EXPECT_TRUE(r.ok()) << r;
}

TEST(SharedMemory, ProgressIsRecordedWithoutBeingAnInterleavingPoint) {
  auto r = weft::check::explore(opts(weft::check::random{}, 1), [] {
    weft::check::progress();
    weft::check::fail("stop");
  });
  ASSERT_EQ(r.kind, weft::check::kind::assertion);
  EXPECT_EQ(r.steps, 0u);
  ASSERT_GE(r.trace.size(), 1u);
  EXPECT_EQ(r.trace.front().action, "progress");
}
