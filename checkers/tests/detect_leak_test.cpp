// Goroutine leaks, under every strategy: what explore.hpp promises ("when main
// returns, goroutines that can run keep running until none can; any goroutine
// then still blocked or sleeping is leaked"), with the leaked goroutine's
// creation site and blocking operation, and leak_options' ignore (a function
// name or file of the creation or blocking site) and ignore_if.
#include <chrono>
#include <memory>
#include <string>

#include "detect_helpers.hpp"

using namespace std::chrono_literals;
using namespace detect_test;

namespace {

class LeakDetector : public strategy_test {};

// A worker that waits for jobs until its channel is closed.
void leaky_worker(weft::chan<int> jobs) {
  for (;;) {
    lines.b = __LINE__ + 1;
    auto j = jobs.recv();
    if (!j) return;
  }
}

// Starts the worker; returns its job channel.
weft::chan<int> start_leaky_worker() {
  auto jobs = weft::make_chan<int>();
  lines.a = __LINE__ + 1;
  weft::go([jobs] { leaky_worker(jobs); });
  return jobs;
}

// Hands the worker one job; fixed: then closes its channel so it ends.
void one_job(bool fixed) {
  auto jobs = start_leaky_worker();
  jobs.send(1);
  if (fixed) jobs.close();
}

}  // namespace

TEST_P(LeakDetector, AGoroutineBlockedForeverWhenMainReturnsIsALeak) {
  auto body = [] { one_job(false); };
  auto o = opts(100);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::leak) << r;
  EXPECT_EQ(r.message, "goroutine 2 is still blocked or sleeping after main returned and nothing else could run");
  ASSERT_EQ(r.goroutines.size(), 1u) << r;
  const auto& g = r.goroutines[0];
  EXPECT_EQ(g.id, 2u);
  EXPECT_EQ(g.parent, 1u);
  EXPECT_FALSE(g.is_main);
  EXPECT_EQ(g.state, "blocked");
  EXPECT_EQ(g.wait_reason, "chan receive");
  EXPECT_EQ(g.waiting_on, "chan#1");
  // Where it was created (the go statement) and where it blocks.
  EXPECT_EQ(g.created_at.line(), line(lines.a));
  EXPECT_TRUE(contains(g.created_at.function_name(), "start_leaky_worker")) << g.created_at.function_name();
  EXPECT_EQ(g.blocked_at.line(), line(lines.b));
  EXPECT_TRUE(contains(g.blocked_at.function_name(), "leaky_worker")) << g.blocked_at.function_name();
  const std::string t = r.text();
  EXPECT_TRUE(contains(t, "goroutine 2 [blocked: chan receive on chan#1]\n      blocked at ")) << t;
  EXPECT_TRUE(contains(t, "created by goroutine 1 at ")) << t;
  EXPECT_NE(find_section(r, "what this means"), nullptr);
  expect_replays(r, body, o);
}

TEST_P(LeakDetector, TheFixedTwinIsClean) {
  auto body = [] { one_job(true); };
  const report r = explore(opts(explore_test::scaled(300)), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LeakDetector, IgnoreByTheBlockingFunctionsName) {
  auto body = [] { one_job(false); };
  auto o = opts(50);
  o.leaks.ignore = {"leaky_worker"};
  EXPECT_TRUE(explore(o, body).ok());
}

TEST_P(LeakDetector, IgnoreByTheCreatingFunctionsName) {
  // "start_leaky_worker" names only the creation site (where weft::go was
  // called); the blocking site is in leaky_worker.
  auto body = [] { one_job(false); };
  auto o = opts(50);
  o.leaks.ignore = {"start_leaky"};
  EXPECT_TRUE(explore(o, body).ok());
}

TEST_P(LeakDetector, IgnoreByFile) {
  auto body = [] { one_job(false); };
  auto o = opts(50);
  o.leaks.ignore = {"detect_leak_test.cpp"};
  EXPECT_TRUE(explore(o, body).ok());
}

TEST_P(LeakDetector, AnIgnoreThatMatchesNothingLeavesTheLeak) {
  auto body = [] { one_job(false); };
  auto o = opts(50);
  o.leaks.ignore = {"", "no_such_function", "other_file.cpp"};
  const report r = explore(o, body);
  EXPECT_EQ(r.kind, kind::leak) << r;
}

TEST_P(LeakDetector, IgnoreIfSeesTheGoroutineAsTheReportWouldShowIt) {
  auto body = [] { one_job(false); };
  auto o = opts(50);
  int asked = 0;
  o.leaks.ignore_if = [&asked](const weft::check::goroutine_info& g) {
    ++asked;
    return g.id == 2 && g.wait_reason == "chan receive" && g.waiting_on == "chan#1" && g.parent == 1 &&
           g.blocked_at.line() == line(lines.b);
  };
  EXPECT_TRUE(explore(o, body).ok());
  EXPECT_GT(asked, 0);
  o.leaks.ignore_if = [](const weft::check::goroutine_info& g) { return g.wait_reason == "chan send"; };
  EXPECT_EQ(explore(o, body).kind, kind::leak);
}

TEST_P(LeakDetector, OnlyTheIgnoredGoroutinesAreLeftOut) {
  auto body = [] {
    auto quiet = weft::make_chan<int>();
    auto loud = weft::make_chan<int>();
    weft::go([quiet] { quiet.recv(); });  // goroutine 2: ignored below
    weft::go([loud] {
      lines.c = __LINE__ + 1;
      loud.send(1);  // goroutine 3: nobody receives
    });
  };
  auto o = opts(50);
  o.leaks.ignore_if = [](const weft::check::goroutine_info& g) { return g.wait_reason == "chan receive"; };
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::leak) << r;
  ASSERT_EQ(r.goroutines.size(), 1u) << r;
  EXPECT_EQ(r.goroutines[0].id, 3u);
  EXPECT_EQ(r.goroutines[0].wait_reason, "chan send");
  EXPECT_EQ(r.goroutines[0].blocked_at.line(), line(lines.c));
  EXPECT_EQ(r.message, "goroutine 3 is still blocked or sleeping after main returned and nothing else could run");
  EXPECT_TRUE(contains(section_text(r, "what this means"),
                       "1 more leaked goroutine(s) matched options::leaks and are not listed"))
      << r;
}

TEST_P(LeakDetector, AGoroutineSleepingPastMainsEndIsLeakedToo) {
  // Once main has returned the clock stops: a sleeper never wakes, however
  // short its sleep, and it is reported as a sleeping leak.
  auto body = [] {
    weft::go([] {
      lines.a = __LINE__ + 1;
      weft::sleep(1ms);
    });
    weft::yield();  // it may start sleeping before main returns, or after
  };
  auto o = opts(50);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::leak) << r;
  ASSERT_EQ(r.goroutines.size(), 1u) << r;
  EXPECT_EQ(r.goroutines[0].state, "sleeping");
  EXPECT_EQ(r.goroutines[0].wait_reason, "sleep");
  EXPECT_EQ(r.goroutines[0].blocked_at.line(), line(lines.a));
  EXPECT_TRUE(contains(r.text(), "goroutine 2 [sleeping: sleep]\n      blocked at ")) << r;
  expect_replays(r, body, o);
}

TEST_P(LeakDetector, GoroutinesThatCanRunAfterMainReturnsFinishFirst) {
  // Not a leak: after main returns, goroutine 2 can still run, and does, to
  // its end (handing values to goroutine 3 on the way).
  auto body = [] {
    auto ch = weft::make_chan<int>();
    weft::go([ch] {
      for (int i = 0; i < 5; ++i) ch.send(i);
      ch.close();
    });
    weft::go([ch] {
      for (int v : ch) (void)v;
    });
  };
  const report r = explore(opts(explore_test::scaled(300)), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LeakDetector, ALeakOnALockHeldByAGoroutineThatEnded) {
  auto body = [] {
    auto mu = std::make_shared<weft::mutex>();  // outlives main: goroutine 3 waits on it
    auto locked = weft::make_chan<weft::unit>();
    weft::go([mu, locked] {
      mu->lock();  // and never unlocks
      locked.send({});
    });
    locked.recv();
    weft::go([mu] {
      lines.a = __LINE__ + 1;
      mu->lock();
    });
    weft::yield();
  };
  const report r = explore(opts(50), body);
  ASSERT_EQ(r.kind, kind::leak) << r;
  ASSERT_EQ(r.goroutines.size(), 1u) << r;
  EXPECT_EQ(r.goroutines[0].id, 3u);
  EXPECT_EQ(r.goroutines[0].wait_reason, "sync.Mutex.Lock");
  EXPECT_EQ(r.goroutines[0].blocked_at.line(), line(lines.a));
}

TEST_P(LeakDetector, TurnedOffNothingIsReported) {
  auto body = [] { one_job(false); };
  auto o = opts(50);
  o.leaks.enabled = false;
  EXPECT_TRUE(explore(o, body).ok());
}

INSTANTIATE_TEST_SUITE_P(Strategies, LeakDetector, ::testing::ValuesIn(every_strategy()), param_name);
