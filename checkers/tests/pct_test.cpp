// PCT finds a bug of depth d with probability at least 1/(n * k^(d-1)) per
// run (n goroutines, k steps): measured here on crafted bugs of depth 1 and 2.
// Runs are deterministic for a fixed seed, so the measured rates are the same
// on every machine and the bounds cannot flake.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <weft/weft.hpp>

#include "helpers.hpp"

using explore_test::opts;

namespace {

constexpr int pad_steps = 10;

// Depth 2: B's read must come after A's first store and before its second.
// Three goroutines (main, A, B).
void depth_two(bool check) {
  weft::check::shared<int> x{0}, pad{0};
  weft::wait_group wg;
  wg.go([&] {
    for (int i = 0; i < pad_steps; ++i) pad.load();
    x.store(1);
    for (int i = 0; i < pad_steps; ++i) pad.load();
    x.store(2);
  });
  wg.go([&] {
    for (int i = 0; i < pad_steps; ++i) pad.load();
    const int seen = x.load();
    if (check) WEFT_ASSERT(seen != 1);
  });
  wg.wait();
}

// Depth 1: B's read must come before A's store (A would otherwise win: it
// starts first and has fewer steps before its store).
void depth_one(bool check) {
  weft::check::shared<int> x{0}, pad{0};
  weft::wait_group wg;
  wg.go([&] { x.store(1); });
  wg.go([&] {
    for (int i = 0; i < pad_steps; ++i) pad.load();
    const int seen = x.load();
    if (check) WEFT_ASSERT(seen == 1);
  });
  wg.wait();
}

// k: the most steps a run of the program takes (measured: the run up to a
// failure planted after everything else).
std::uint64_t steps_of(void (*program)(bool)) {
  std::uint64_t k = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto o = explore_test::without_race_detector(opts(weft::check::random{}, 1));
    o.seed = seed;
    o.shrink = false;
    auto r = weft::check::explore(o, [program] {
      program(false);
      weft::check::fail("measured");
    });
    k = std::max(k, r.steps + 1);  // + main's exit
  }
  return k;
}

struct rate {
  std::uint64_t hits, runs;
};

rate measure(weft::check::strategy s, void (*program)(bool), std::uint64_t runs) {
  // x is unsynchronised on purpose: the assertions measure interleavings.
  auto o = explore_test::without_race_detector(opts(std::move(s), runs));
  o.stop_on_first_failure = false;
  o.shrink = false;
  o.seed = 2024;
  auto r = weft::check::explore(o, [program] { program(true); });
  return {r.failures, r.iterations};
}

}  // namespace

TEST(Pct, FindsADepthTwoBugAtLeastAsOftenAsItsGuarantee) {
  const std::uint64_t n = 3, k = steps_of(&depth_two), runs = explore_test::tsan ? 600 : 3000;
  const double guarantee = 1.0 / (static_cast<double>(n) * static_cast<double>(k));
  const rate pct = measure(weft::check::pct{.depth = 2}, &depth_two, runs);
  const rate rnd = measure(weft::check::random{}, &depth_two, runs);
  ASSERT_EQ(pct.runs, runs);
  const double found = static_cast<double>(pct.hits) / static_cast<double>(pct.runs);
  RecordProperty("k", static_cast<int>(k));
  RecordProperty("pct_hits", static_cast<int>(pct.hits));
  RecordProperty("random_hits", static_cast<int>(rnd.hits));
  std::printf("depth 2: k = %llu steps, guarantee 1/(n*k) = %.4f, pct found %.4f (%llu/%llu), random %.4f\n",
              static_cast<unsigned long long>(k), guarantee, found, static_cast<unsigned long long>(pct.hits),
              static_cast<unsigned long long>(pct.runs), static_cast<double>(rnd.hits) / static_cast<double>(runs));
  EXPECT_GE(found, guarantee);
}

TEST(Pct, DepthOneIsExactlyARandomPriorityOrder) {
  // With no change points PCT runs goroutines in a random priority order: this
  // bug needs A to have the lowest of three priorities, probability exactly
  // 1/3 (the guarantee 1/n is tight here). Check the measured rate against it,
  // within 4 standard deviations.
  const std::uint64_t runs = explore_test::tsan ? 600 : 2000;
  const rate pct = measure(weft::check::pct{.depth = 1}, &depth_one, runs);
  const double found = static_cast<double>(pct.hits) / static_cast<double>(pct.runs);
  const double p = 1.0 / 3, sigma = std::sqrt(p * (1 - p) / static_cast<double>(runs));
  std::printf("depth 1: expected 1/n = %.4f, pct found %.4f\n", p, found);
  EXPECT_NEAR(found, p, 4 * sigma);
}

TEST(Pct, HigherDepthStillFindsShallowBugs) {
  const rate pct = measure(weft::check::pct{.depth = 3}, &depth_two, explore_test::scaled(2000));
  EXPECT_GT(pct.hits, 0u);
}
