// The lock-order detector (Linux's lockdep), under every strategy: locks
// taken in opposite orders are reported even when no schedule can deadlock
// (the orders are serialised), from one graph kept across all the schedules
// of an exploration; consistent orders, nested ones included, are clean.
#include <sstream>
#include <string>

#include "detect_helpers.hpp"

using namespace detect_test;

namespace {

class LockOrderDetector : public strategy_test {};

// Goroutine 2 takes a then b; then (a channel orders the two) goroutine 3
// takes b then a. No schedule deadlocks: goroutine 3 starts only after
// goroutine 2 has let go of both. Fixed: goroutine 3 takes a then b too.
void serialised_inversion(bool fixed) {
  weft::mutex a, b;
  auto turn = weft::make_chan<weft::unit>();
  weft::wait_group wg;
  wg.go([&, turn] {
    lines.a = __LINE__ + 1;
    a.lock();
    lines.b = __LINE__ + 1;
    b.lock();
    b.unlock();
    a.unlock();
    turn.send({});
  });
  wg.go([&, turn, fixed] {
    turn.recv();
    weft::mutex& first = fixed ? a : b;
    weft::mutex& second = fixed ? b : a;
    lines.c = __LINE__ + 1;
    first.lock();
    lines.d = __LINE__ + 1;
    second.lock();
    second.unlock();
    first.unlock();
  });
  wg.wait();
}

// Each schedule takes the two locks in one order only, the order chosen per
// schedule: no single run shows the inversion, the graph across runs does.
void inversion_across_schedules() {
  weft::mutex a, b;
  const bool reverse = weft::check::choose(2) == 1;
  weft::wait_group wg;
  wg.go([&, reverse] {
    weft::mutex& first = reverse ? b : a;
    weft::mutex& second = reverse ? a : b;
    first.lock();
    second.lock();
    second.unlock();
    first.unlock();
  });
  wg.wait();
}

}  // namespace

TEST_P(LockOrderDetector, SerialisedOppositeOrdersAreReportedWithBothOrdersAndSites) {
  auto body = [] { serialised_inversion(false); };
  auto o = opts(300);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::lock_order) << r;
  ASSERT_EQ(r.cycle.size(), 2u) << r;
  const auto& first = r.cycle[0];   // the order seen first: goroutine 2's
  const auto& second = r.cycle[1];  // then goroutine 3's, closing the cycle
  EXPECT_EQ(first.goroutine, 2u);
  EXPECT_EQ(second.goroutine, 3u);
  EXPECT_EQ(first.holds, second.wants);
  EXPECT_EQ(first.wants, second.holds);
  EXPECT_NE(first.holds, first.wants);
  EXPECT_EQ(first.held_at.line(), line(lines.a));
  EXPECT_EQ(first.wanted_at.line(), line(lines.b));
  EXPECT_EQ(second.held_at.line(), line(lines.c));
  EXPECT_EQ(second.wanted_at.line(), line(lines.d));
  EXPECT_EQ(first.hold_mode, "locked");
  EXPECT_EQ(first.want_mode, "lock");
  EXPECT_GE(first.iteration, 1u);
  EXPECT_EQ(first.iteration, second.iteration);  // one schedule shows both here
  EXPECT_EQ(r.message, first.holds + " and " + first.wants +
                           " are taken in opposite orders: a deadlock waiting to happen (no explored schedule "
                           "deadlocked)")
      << r;
  const std::string orders = section_text(r, "the two orders");
  EXPECT_TRUE(contains(orders, "goroutine 2 locked " + first.holds + " at " + site_of(first.held_at) + ", then locked " +
                                   first.wants + " at " + site_of(first.wanted_at)))
      << orders;
  EXPECT_TRUE(contains(orders, "goroutine 3 locked " + second.holds + " at " + site_of(second.held_at) +
                                   ", then locked " + second.wants + " at " + site_of(second.wanted_at)))
      << orders;
  EXPECT_TRUE(contains(section_text(r, "how to fix it"), "in one global order")) << r;
  // It went on looking for a real deadlock, over the whole budget (or DFS's tree).
  EXPECT_TRUE(r.iterations == 300 || r.exhausted) << r.iterations;
  expect_replays(r, body, o);
}

TEST_P(LockOrderDetector, TheGraphIsKeptAcrossSchedules) {
  auto body = inversion_across_schedules;
  auto o = opts(300);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::lock_order) << r;
  ASSERT_EQ(r.cycle.size(), 2u) << r;
  // The two orders come from two different schedules, the first one earlier.
  EXPECT_LT(r.cycle[0].iteration, r.cycle[1].iteration) << r;
  EXPECT_EQ(r.cycle[1].iteration, r.iteration) << r;
  EXPECT_EQ(r.cycle[0].holds, r.cycle[1].wants);
  EXPECT_EQ(r.cycle[0].wants, r.cycle[1].holds);
  const std::string orders = section_text(r, "the two orders");
  EXPECT_TRUE(contains(orders, "(schedule " + std::to_string(r.cycle[0].iteration) + ")")) << orders;
  EXPECT_TRUE(contains(orders, "(schedule " + std::to_string(r.cycle[1].iteration) + ")")) << orders;
  // The schedule carries the earlier run: a replay closes the same cycle.
  expect_replays(r, body, o);
}

TEST_P(LockOrderDetector, OneOrderIsClean) {
  auto body = [] { serialised_inversion(true); };
  const report r = explore(opts(explore_test::scaled(400)), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LockOrderDetector, NestedConsistentOrderIsClean) {
  // a -> b -> c everywhere, with some goroutines skipping a lock (a -> c,
  // b -> c): all edges point one way.
  auto body = [] {
    weft::mutex a, b, c;
    weft::wait_group wg;
    wg.go([&] {
      a.lock();
      b.lock();
      c.lock();
      c.unlock();
      b.unlock();
      a.unlock();
    });
    wg.go([&] {
      a.lock();
      c.lock();
      c.unlock();
      a.unlock();
    });
    wg.go([&] {
      b.lock();
      c.lock();
      c.unlock();
      b.unlock();
    });
    wg.go([&] {
      a.lock();
      b.lock();
      b.unlock();
      a.unlock();
    });
    wg.wait();
  };
  const report r = explore(opts(explore_test::scaled(400)), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LockOrderDetector, ReleasingBeforeTakingTheNextIsNoOrder) {
  // b after a, but a is released first: no "b while holding a" edge.
  auto body = [] {
    weft::mutex a, b;
    weft::wait_group wg;
    wg.go([&] {
      a.lock();
      a.unlock();
      b.lock();
      b.unlock();
    });
    wg.go([&] {
      b.lock();
      b.unlock();
      a.lock();
      a.unlock();
    });
    wg.wait();
  };
  const report r = explore(opts(explore_test::scaled(400)), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LockOrderDetector, AThreeLockCycleAcrossGoroutines) {
  // a -> b, b -> c, c -> a, one after the other.
  auto body = [] {
    weft::mutex m[3];
    for (int i = 0; i < 3; ++i) {
      weft::wait_group wg;
      wg.go([&m, i] {
        m[i].lock();
        m[(i + 1) % 3].lock();
        m[(i + 1) % 3].unlock();
        m[i].unlock();
      });
      wg.wait();
    }
  };
  const report r = explore(opts(100), body);
  ASSERT_EQ(r.kind, kind::lock_order) << r;
  ASSERT_EQ(r.cycle.size(), 3u) << r;
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(r.cycle[i].wants, r.cycle[(i + 1) % 3].holds) << r;
  EXPECT_TRUE(contains(r.message, "are taken in orders that form a cycle")) << r.message;
  EXPECT_NE(find_section(r, "the orders, which form a cycle"), nullptr) << r;
}

TEST_P(LockOrderDetector, ReadLocksOnlyAreNoInversion) {
  // Readers do not exclude each other (lock_order.hpp).
  auto body = [] {
    weft::rw_mutex a, b;
    auto turn = weft::make_chan<weft::unit>();
    weft::wait_group wg;
    wg.go([&, turn] {
      a.lock_shared();
      b.lock_shared();
      b.unlock_shared();
      a.unlock_shared();
      turn.send({});
    });
    wg.go([&, turn] {
      turn.recv();
      b.lock_shared();
      a.lock_shared();
      a.unlock_shared();
      b.unlock_shared();
    });
    wg.wait();
  };
  const report r = explore(opts(explore_test::scaled(300)), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(LockOrderDetector, AWriteLockInTheCycleIsAnInversion) {
  auto body = [] {
    weft::rw_mutex a;
    weft::mutex b;
    auto turn = weft::make_chan<weft::unit>();
    weft::wait_group wg;
    wg.go([&, turn] {
      a.lock_shared();
      b.lock();
      b.unlock();
      a.unlock_shared();
      turn.send({});
    });
    wg.go([&, turn] {
      turn.recv();
      b.lock();
      a.lock();
      a.unlock();
      b.unlock();
    });
    wg.wait();
  };
  const report r = explore(opts(100), body);
  ASSERT_EQ(r.kind, kind::lock_order) << r;
  ASSERT_EQ(r.cycle.size(), 2u);
  EXPECT_EQ(r.cycle[0].hold_mode, "read-locked");
  EXPECT_EQ(r.cycle[1].want_mode, "write-lock");
  EXPECT_TRUE(contains(section_text(r, "the two orders"), "goroutine 2 read-locked ")) << r;
}

TEST_P(LockOrderDetector, ARealDeadlockWinsOverTheInversion) {
  // Not serialised: some schedule deadlocks, and that is what is reported.
  auto body = [] {
    weft::mutex a, b;
    weft::wait_group wg;
    wg.go([&] {
      a.lock();
      b.lock();
      b.unlock();
      a.unlock();
    });
    wg.go([&] {
      b.lock();
      a.lock();
      a.unlock();
      b.unlock();
    });
    wg.wait();
  };
  const report r = explore(opts(2000), body);
  EXPECT_EQ(r.kind, kind::deadlock) << r;
}

TEST_P(LockOrderDetector, DotShowsTheLockOrderCycle) {
  auto body = [] { serialised_inversion(false); };
  const report r = explore(opts(100), body);
  ASSERT_EQ(r.kind, kind::lock_order) << r;
  const std::string d = dot(r);
  EXPECT_EQ(dot_problem(d), "") << d;
  for (const auto& l : r.cycle) {
    EXPECT_TRUE(contains(d, "  \"" + l.holds + "\" [shape=ellipse];")) << d;
    EXPECT_TRUE(contains(d, "  \"" + l.holds + "\" -> \"" + l.wants + "\" [label=\"goroutine " +
                                std::to_string(l.goroutine) + ": lock while locked\\ndetect_lock_order_test.cpp:" +
                                std::to_string(l.wanted_at.line())))
        << d;
  }
}

TEST_P(LockOrderDetector, TurnedOffItReportsNothing) {
  auto body = [] { serialised_inversion(false); };
  auto o = opts(100);
  o.lock_order.enabled = false;
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

INSTANTIATE_TEST_SUITE_P(Strategies, LockOrderDetector, ::testing::ValuesIn(every_strategy()), param_name);
