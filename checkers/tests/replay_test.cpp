// A run is a pure function of (strategy, seed, iteration): the same seed gives
// the same schedules and traces; every failure's schedule string replays it to
// the identical report (WEFT_REPLAY too); a program that is not deterministic
// is caught by replay, which says where it diverged.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corpus.hpp"
#include "helpers.hpp"

using explore_test::opts;
using explore_test::scoped_env;
using weft::check::kind;

namespace {

std::vector<weft::check::strategy> strategies() {
  return {weft::check::random{}, weft::check::pct{.depth = 3}, weft::check::portfolio{},
          weft::check::dfs{.preemption_bound = 2}};
}

// One call site for explore, so main's creation site is the same in a run and
// in its replay (as it is when a test binary is re-run with WEFT_REPLAY).
weft::check::report run(const weft::check::options& o, const std::function<void()>& body) {
  return weft::check::explore(o, body);
}

// A program whose every run records its interleaving: a signature of the
// schedule each iteration took.
struct recorder {
  std::vector<std::string>* logs;
  void operator()() const {
    auto log = std::make_shared<explore_test::interleaving_log>();
    weft::wait_group wg;
    for (char c : {'a', 'b', 'c'})
      wg.go([log, c] {
        for (int i = 0; i < 3; ++i) {
          weft::yield();
          log->push(c);
        }
      });
    auto ch = weft::make_chan<int>(1);
    wg.go([ch] { ch.send(1); });
    weft::select(weft::on_recv(ch, [log](auto) { log->push('r'); }),
                 weft::on_recv(weft::after(std::chrono::milliseconds(1)), [log](auto) { log->push('t'); }));
    log->push(static_cast<char>('0' + weft::check::choose(3)));
    wg.wait();
    logs->push_back(log->str());
  }
};

}  // namespace

TEST(Replay, TheSameSeedGivesTheSameSchedulesRunAfterRun) {
  for (const auto& s : strategies()) {
    std::vector<std::string> first, second, other_seed;
    auto o = opts(s, explore_test::scaled(200));
    ASSERT_TRUE(run(o, recorder{&first}).ok());
    ASSERT_TRUE(run(o, recorder{&second}).ok());
    EXPECT_EQ(first, second) << weft::check::to_string(s);
    // DFS also re-runs, uncounted, schedules of a lower preemption bound.
    EXPECT_GE(first.size(), explore_test::scaled(200));
    if (!std::holds_alternative<weft::check::dfs>(s)) {
      o.seed += 1;
      run(o, recorder{&other_seed});
      EXPECT_NE(first, other_seed) << "a different seed should explore differently: " << weft::check::to_string(s);
    }
  }
}

TEST(Replay, TheSameSeedGivesTheSameFailureReportByteForByte) {
  for (const auto& p : corpus::bad_programs()) {
    for (const auto& s : strategies()) {
      auto o = opts(s, 2000);
      o.max_steps = 2000;
      auto a = run(o, p.body);
      auto b = run(o, p.body);
      ASSERT_EQ(a.kind, p.expected) << p.name;
      EXPECT_EQ(a.text(), b.text()) << p.name << " under " << weft::check::to_string(s);
      std::ostringstream pa, pb;
      a.write_perfetto(pa);
      b.write_perfetto(pb);
      EXPECT_EQ(pa.str(), pb.str()) << p.name;
    }
  }
}

TEST(Replay, EveryFailureReplaysToTheIdenticalReport) {
  for (const auto& p : corpus::bad_programs()) {
    for (const auto& s : strategies()) {
      auto o = opts(s, 2000);
      o.max_steps = 2000;
      auto found = run(o, p.body);
      ASSERT_EQ(found.kind, p.expected) << p.name;
      auto replayed = run(opts(weft::check::replay{found.schedule}, 1), p.body);
      EXPECT_EQ(replayed.text(), found.text()) << p.name << " under " << weft::check::to_string(s);
      EXPECT_EQ(replayed.schedule, found.schedule);
      EXPECT_EQ(replayed.seed, found.seed);
      EXPECT_EQ(replayed.iteration, found.iteration);
      EXPECT_EQ(replayed.strategy, found.strategy);
    }
  }
}

TEST(Replay, WeftReplayOverridesTheStrategyInCode) {
  auto found = run(opts(weft::check::pct{}, 1000), [] { corpus::lost_update(false); });
  ASSERT_EQ(found.kind, kind::race);
  scoped_env env("WEFT_REPLAY", found.schedule);
  auto replayed = run(opts(weft::check::random{}, 1000), [] { corpus::lost_update(false); });
  EXPECT_EQ(replayed.text(), found.text());
  EXPECT_EQ(replayed.iterations, 1u);
}

TEST(Replay, WeftSeedReRunsTheExploration) {
  auto o = opts(weft::check::random{}, 1000);
  o.seed = 7;
  auto a = run(o, [] { corpus::overdraw(false); });
  ASSERT_EQ(a.kind, kind::assertion);
  o.seed = 99;  // WEFT_SEED wins over the seed in code
  scoped_env env("WEFT_SEED", "7");
  auto b = run(o, [] { corpus::overdraw(false); });
  EXPECT_EQ(b.seed, 7u);
  EXPECT_EQ(b.text(), a.text());
}

TEST(Replay, AReplayThatTakesAnotherPathIsNondeterminismSayingWhere) {
  // State outside weft's control (here a flag flipped between the runs) makes
  // the replayed run spawn an extra goroutine: replay notices and says where.
  bool extra = false;
  auto body = [&extra] {
    weft::check::shared<int> x{0};
    weft::wait_group wg;
    wg.go([&] { x += 1; });
    if (extra) wg.go([] {});
    wg.go([&] { x += 1; });
    wg.wait();
    WEFT_ASSERT(x.load() == 2);
  };
  auto found = run(opts(weft::check::random{}, 1000), body);
  ASSERT_EQ(found.kind, kind::race) << found;
  extra = true;
  auto replayed = run(opts(weft::check::replay{found.schedule}, 1), body);
  ASSERT_EQ(replayed.kind, kind::nondeterminism) << replayed;
  EXPECT_NE(replayed.message.find("replay diverged from the schedule"), std::string::npos) << replayed.message;
  EXPECT_NE(replayed.message.find("at step"), std::string::npos) << replayed.message;
  EXPECT_NE(replayed.message.find("not controlled by weft"), std::string::npos) << replayed.message;
  EXPECT_EQ(replayed.schedule, found.schedule) << "the report names the schedule that was replayed";
}

TEST(Replay, AReplayThatEndsEarlyIsNondeterminism) {
  bool short_run = false;
  auto body = [&short_run] {
    weft::check::shared<int> x{0};
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i) wg.go([&] { x += 1; });
    wg.wait();
    if (short_run) return;
    WEFT_ASSERT(x.load() == 2);
  };
  // The lost update as an assertion, not as the race that causes it.
  auto found = run(explore_test::without_race_detector(opts(weft::check::pct{}, 1000)), body);
  ASSERT_EQ(found.kind, kind::assertion);
  short_run = true;
  auto replayed = run(explore_test::without_race_detector(opts(weft::check::replay{found.schedule}, 1)), body);
  EXPECT_EQ(replayed.kind, kind::nondeterminism) << replayed;
}

TEST(Replay, DfsNoticesAProgramThatDoesNotRepeatItself) {
  int calls = 0;
  auto r = run(explore_test::without_race_detector(opts(weft::check::dfs{}, 1000)), [&calls] {
    weft::check::shared<int> x{0};
    auto done = weft::make_chan<int>(8);
    const int n = 2 + (++calls % 3);  // the number of goroutines changes from run to run
    for (int i = 0; i < n; ++i)
      weft::go([&x, done] {
        x += 1;
        done.send(0);
      });
    for (int i = 0; i < n; ++i) done.recv();
  });
  ASSERT_EQ(r.kind, kind::nondeterminism) << r;
  EXPECT_NE(r.message.find("dfs:"), std::string::npos) << r.message;
}
