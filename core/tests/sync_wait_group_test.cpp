// weft::wait_group: Go's WaitGroup semantics and its three misuse panics.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

namespace {
std::string panic_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const weft::panic_error& e) {
    return e.what();
  }
  return "(no panic)";
}
}  // namespace

WEFT_RUNTIME_SUITE(WaitGroup);

WEFT_RUNTIME_TEST(WaitGroup, WaitsForEveryDone) {
  weft::wait_group wg;
  constexpr int n = 50;
  weft::atomic<int> finished{0};
  for (int i = 0; i < n; ++i) {
    wg.add(1);
    weft::go([&, i] {
      if (i % 3 == 0) weft::sleep(100us);
      if (i % 3 == 1) weft::yield();
      finished.fetch_add(1);
      wg.done();
    });
  }
  wg.wait();
  EXPECT_EQ(finished.load(), n);
}

WEFT_RUNTIME_TEST(WaitGroup, ZeroCounterDoesNotBlock) {
  weft::wait_group wg;
  wg.wait();
  wg.add(3);
  wg.add(-3);
  wg.wait();
  wg.add(0);
  wg.wait();
}

// Done happens before Wait returns: plain writes made before done() are
// visible after wait() (TSan and the race checker hold us to it).
WEFT_RUNTIME_TEST(WaitGroup, DoneHappensBeforeWaitReturns) {
  std::vector<int> results(16, 0);
  weft::wait_group wg;
  for (int i = 0; i < 16; ++i)
    wg.go([&, i] { results[i] = i * i; });
  wg.wait();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(results[i], i * i);
}

WEFT_RUNTIME_TEST(WaitGroup, ManyWaitersAllReleased) {
  weft::wait_group wg, waiters;
  wg.add(1);
  weft::atomic<int> released{0};
  for (int i = 0; i < 10; ++i)
    waiters.go([&] {
      wg.wait();
      released.fetch_add(1);
    });
  weft::sleep(1ms);
  EXPECT_EQ(released.load(), 0);
  wg.done();
  waiters.wait();
  EXPECT_EQ(released.load(), 10);
}

WEFT_RUNTIME_TEST(WaitGroup, ReusedRoundAfterRound) {
  weft::wait_group wg;
  for (int round = 0; round < 20; ++round) {
    weft::atomic<int> n{0};
    for (int i = 0; i < 4; ++i)
      wg.go([&] { n.fetch_add(1); });
    wg.wait();
    EXPECT_EQ(n.load(), 4);
  }
}

WEFT_RUNTIME_TEST(WaitGroup, NegativeCounterPanics) {
  weft::wait_group wg;
  EXPECT_EQ(panic_text([&] { wg.done(); }), "sync: negative WaitGroup counter");
  wg.add(2);
  EXPECT_EQ(panic_text([&] { wg.add(-3); }), "sync: negative WaitGroup counter");
  // The counter is unchanged: two more done()s release a waiter.
  weft::go([&] {
    wg.done();
    wg.done();
  });
  wg.wait();
  EXPECT_EQ(panic_text([&] { wg.done(); }), "sync: negative WaitGroup counter");
}

// Go 1.25's WaitGroup.Go.
WEFT_RUNTIME_TEST(WaitGroup, GoHelper) {
  weft::wait_group wg;
  weft::atomic<int> n{0};
  for (int i = 0; i < 8; ++i) wg.go([&] { n.fetch_add(1); });
  wg.wait();
  EXPECT_EQ(n.load(), 8);
}

// The seed's greeters.
WEFT_RUNTIME_TEST(WaitGroup, SeedGreeters) {
  weft::mutex mu;
  std::vector<int> hello;
  auto greet = [&](weft::wait_group& wg, int id) {
    {
      std::lock_guard l(mu);
      hello.push_back(id);
    }
    wg.done();
  };
  constexpr int greeters = 5;
  weft::wait_group wg;
  wg.add(greeters);
  for (int i = 0; i < greeters; ++i) weft::go([&, i] { greet(wg, i + 1); });
  wg.wait();
  EXPECT_EQ(hello.size(), size_t{greeters});
}

// "Add called concurrently with Wait": the counter goes from 0 to n while the
// previous round's waiters are still counted. That window lies inside the
// releasing add and needs true parallelism to hit, so this test puts the
// group in that state directly (the layout is Go's: counter << 32 | waiters).
WEFT_RUNTIME_TEST(WaitGroup, AddConcurrentWithWaitPanics) {
  static_assert(std::is_standard_layout_v<weft::wait_group>);
  weft::wait_group wg;
  auto& state = *reinterpret_cast<std::atomic<std::uint64_t>*>(&wg);
  state.store(1);  // counter 0, one waiter still being released
  EXPECT_EQ(panic_text([&] { wg.add(1); }), "sync: WaitGroup misuse: Add called concurrently with Wait");
  EXPECT_EQ(state.load(), 1u);  // unchanged
  state.store(0);
  wg.add(1);
  wg.done();
}

// A waiter woken by the final done() that finds the group already counting
// again: Go's "reused before previous Wait has returned". With one worker the
// waiter cannot run between our done() and add().
TEST(WaitGroupOneWorker, ReusedBeforeWaitReturnedPanics) {
  weft::run({.procs = 1}, [] {
    weft::wait_group wg;
    wg.add(1);
    auto msg = weft::make_chan<std::string>(1);
    weft::go([&] {
      try {
        wg.wait();
        msg.send("(no panic)");
      } catch (const weft::panic_error& e) {
        msg.send(e.what());
      }
    });
    weft::yield();  // the waiter parks
    wg.done();      // releases it (runnable, not yet running)
    wg.add(1);      // and a new round starts before its wait returned
    EXPECT_EQ(*msg.recv(), "sync: WaitGroup is reused before previous Wait has returned");
    wg.done();
  });
}

TEST(WaitGroupTeardown, ParkedWaiterIsUnwound) {
  weft::wait_group wg;
  std::atomic<int> destructors{0};
  struct flag {
    std::atomic<int>* n;
    ~flag() { ++*n; }
  };
  weft::run({.procs = 2, .report_leaks = false}, [&] {
    wg.add(1);
    for (int i = 0; i < 2; ++i)
      weft::go([&] {
        flag f{&destructors};
        wg.wait();
      });
    weft::sleep(1ms);
  });
  EXPECT_EQ(destructors.load(), 2);
  // The unwound waiters uncounted themselves: the counter is 1, no waiters.
  auto& state = *reinterpret_cast<std::atomic<std::uint64_t>*>(&wg);
  EXPECT_EQ(state.load(), std::uint64_t{1} << 32);
}
