// DFS enumerates exactly what combinatorics predicts; a litmus test collects
// exactly the sequentially consistent outcome set (loom's litmus.rs style).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <weft/weft.hpp>

#include "helpers.hpp"

using explore_test::binomial;
using explore_test::opts;

namespace {

// Records the interleaving once both goroutines are done with it (the last
// owner's release).
struct recorder {
  std::set<std::string>* seen;
  explore_test::interleaving_log log;
  weft::check::shared<int> pad{0};
  explicit recorder(std::set<std::string>* s) : seen(s) {}
  ~recorder() { seen->insert(log.str()); }
};

// Two goroutines of n and m steps: main logs 'A' n times, a goroutine logs 'B'
// m times, consecutive logs separated by one interleaving point (a read of a
// shared variable). Main's first log comes right after the spawn and the
// goroutine's first log at its start, so each is a sequence of exactly n (m)
// segments between decisions, and a schedule is an interleaving of them. Main
// returns without waiting (goroutines that can run keep running: no leak), so
// nothing else adds decisions: C(n+m, n) schedules, each with its own log.
void two_sequences(unsigned n, unsigned m, std::set<std::string>* seen) {
  auto rec = std::make_shared<recorder>(seen);
  weft::go([rec, m] {
    rec->log.push('B');
    for (unsigned j = 1; j < m; ++j) {
      rec->pad.load();
      rec->log.push('B');
    }
  });
  rec->log.push('A');
  for (unsigned i = 1; i < n; ++i) {
    rec->pad.load();
    rec->log.push('A');
  }
}

// Interleavings of n A's (main) and m B's (the goroutine) with at most b
// preemptions. One with r blocks switches r-1 times; the switch after the first
// of them to finish is free (it cannot continue), so r-2 preemptions when main
// runs first. Running the new goroutine first is itself a preemption (main
// could have gone on past the spawn): r-1 then.
std::uint64_t interleavings_within(unsigned n, unsigned m, unsigned b) {
  std::uint64_t total = 0;
  auto blocks = [](unsigned first, unsigned second, unsigned r) {
    const unsigned more = (r + 1) / 2, fewer = r / 2;  // blocks of the one that runs first, and of the other
    return binomial(first - 1, more - 1) * binomial(second - 1, fewer - 1);
  };
  for (unsigned r = 2; r <= b + 2; ++r) total += blocks(n, m, r);
  for (unsigned r = 2; r <= b + 1; ++r) total += blocks(m, n, r);
  return total;
}

}  // namespace

TEST(Dfs, UnboundedEnumeratesEveryInterleavingExactlyOnce) {
  const std::vector<std::pair<unsigned, unsigned>> sizes{{1, 1}, {2, 1}, {2, 2}, {3, 2}, {4, 3}, {5, 5}, {6, 4}};
  for (const auto& [n, m] : sizes) {
    std::set<std::string> seen;
    const unsigned n_ = n, m_ = m;
    auto r = weft::check::explore(opts(weft::check::dfs{}, 1'000'000), [&] { two_sequences(n_, m_, &seen); });
    ASSERT_TRUE(r.ok()) << r;
    const std::uint64_t expected = binomial(n + m, n);
    EXPECT_EQ(r.iterations, expected) << "schedules for n=" << n << " m=" << m;
    EXPECT_EQ(seen.size(), expected) << "distinct interleavings for n=" << n << " m=" << m;
    EXPECT_TRUE(r.exhausted);
    EXPECT_NE(r.note.find("whole schedule space"), std::string::npos) << r.note;
    for (const std::string& s : seen) {
      EXPECT_EQ(std::count(s.begin(), s.end(), 'A'), static_cast<long>(n));
      EXPECT_EQ(std::count(s.begin(), s.end(), 'B'), static_cast<long>(m));
    }
  }
}

TEST(Dfs, PreemptionBoundsIterateZeroOneTwoAndCountEachScheduleOnce) {
  const unsigned n = 4, m = 4;
  for (unsigned b = 0; b <= 7; ++b) {
    std::set<std::string> seen;
    auto r = weft::check::explore(opts(weft::check::dfs{.preemption_bound = b}, 1'000'000),
                                  [&] { two_sequences(n, m, &seen); });
    ASSERT_TRUE(r.ok()) << r;
    const std::uint64_t expected = interleavings_within(n, m, b);
    EXPECT_EQ(r.iterations, expected) << "bound " << b;
    EXPECT_EQ(seen.size(), expected) << "bound " << b;
    EXPECT_TRUE(r.exhausted);
  }
  // Bound 7 allows every interleaving of 4 and 4 (at most 8 blocks).
  EXPECT_EQ(interleavings_within(n, m, 7), binomial(8, 4));
  EXPECT_EQ(interleavings_within(n, m, 6), binomial(8, 4) - 1);  // all but BABABABA
  EXPECT_EQ(interleavings_within(n, m, 0), 1u);
  EXPECT_EQ(interleavings_within(n, m, 1), 5u);
}

TEST(Dfs, FewPreemptionsComeFirst) {
  // CHESS's iterative context bounding: the first schedule is the one without
  // preemptions, and the first five are exactly those with at most one.
  std::set<std::string> seen;
  auto r = weft::check::explore(opts(weft::check::dfs{}, 5), [&] { two_sequences(4, 4, &seen); });
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(seen, (std::set<std::string>{"AAAABBBB", "AAABBBBA", "AABBBBAA", "ABBBBAAA", "BBBBAAAA"}));
  EXPECT_FALSE(r.exhausted);
}

namespace {
// Two-thread litmus harness: main runs `a`, a goroutine runs `b`, and the last
// of them to finish records (r1, r2). No join: that would add interleaving
// points of its own (goroutines that can run keep running after main returns).
struct outcome_recorder {
  std::set<std::pair<int, int>>* outcomes;
  weft::atomic<int> x{0}, y{0};
  std::atomic<int> r1{-1}, r2{-1};  // plain std::atomic: results, not part of the test
  explicit outcome_recorder(std::set<std::pair<int, int>>* o) : outcomes(o) {}
  ~outcome_recorder() { outcomes->insert({r1.load(), r2.load()}); }
};
}  // namespace

TEST(Dfs, StoreBufferingLitmusHasExactlyTheSequentiallyConsistentOutcomes) {
  // SB: each thread stores then loads the other's variable. Under sequential
  // consistency (weft::atomic) at least one load sees the other's store:
  // exactly {(0,1), (1,0), (1,1)}, never (0,0).
  std::set<std::pair<int, int>> outcomes;
  auto r = weft::check::explore(opts(weft::check::dfs{}, 1'000'000), [&] {
    auto t = std::make_shared<outcome_recorder>(&outcomes);
    weft::go([t] {
      t->y.store(1);
      t->r2 = t->x.load();
    });
    t->x.store(1);
    t->r1 = t->y.load();
  });
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(outcomes, (std::set<std::pair<int, int>>{{0, 1}, {1, 0}, {1, 1}}));
}

TEST(Dfs, MessagePassingLitmusNeverSeesTheFlagWithoutTheData) {
  // MP: data then flag; a reader that sees the flag sees the data. The outcome
  // (flag=1, data=0) never appears; every other one does.
  std::set<std::pair<int, int>> outcomes;
  auto r = weft::check::explore(opts(weft::check::dfs{}, 1'000'000), [&] {
    auto t = std::make_shared<outcome_recorder>(&outcomes);
    weft::go([t] {
      t->r1 = t->y.load();  // flag
      t->r2 = t->x.load();  // data
    });
    t->x.store(1);
    t->y.store(1);
  });
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(outcomes, (std::set<std::pair<int, int>>{{0, 0}, {0, 1}, {1, 1}}));
}

TEST(Dfs, SelectAndChooseAreEnumeratedToo) {
  // A select with two ready cases and a choose(3) are decisions: DFS tries
  // every combination.
  std::set<std::pair<std::size_t, std::size_t>> seen;
  auto r = weft::check::explore(opts(weft::check::dfs{}, 1'000'000), [&] {
    auto a = weft::make_chan<int>(1), b = weft::make_chan<int>(1);
    a.send(1);
    b.send(2);
    const std::size_t picked = weft::select(weft::on_recv(a), weft::on_recv(b));
    seen.insert({picked, weft::check::choose(3)});
  });
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.iterations, 6u);
  EXPECT_EQ(seen.size(), 6u);
}

TEST(Dfs, FindsTheLostUpdateWithOnePreemptionBeforeTryingTwo) {
  // The race detector would report the unsynchronised counter at once.
  auto r = weft::check::explore(explore_test::without_race_detector(opts(weft::check::dfs{}, 1'000'000)), [] {
    weft::check::shared<int> counter{0};
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i) wg.go([&] { counter += 1; });
    wg.wait();
    WEFT_ASSERT(counter.load() == 2);
  });
  ASSERT_EQ(r.kind, weft::check::kind::assertion) << r;
  EXPECT_FALSE(r.exhausted);
}
