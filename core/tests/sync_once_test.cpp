// weft::once: exactly one run, concurrent callers wait for it, exceptions.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

WEFT_RUNTIME_SUITE(Once);

// The seed: a hundred goroutines, one increment.
WEFT_RUNTIME_TEST(Once, SeedHundredCallersOneRun) {
  int count = 0;
  auto increment = [&] { ++count; };
  weft::once once;
  weft::wait_group wg;
  wg.add(100);
  for (int i = 0; i < 100; ++i)
    weft::go([&] {
      once.call(increment);
      wg.done();
    });
  wg.wait();
  EXPECT_EQ(count, 1);
}

// The seed: once counts calls, not functions.
WEFT_RUNTIME_TEST(Once, SeedCountsCallsNotFunctions) {
  int count = 0;
  weft::once once;
  once.call([&] { ++count; });
  once.call([&] { --count; });
  EXPECT_EQ(count, 1);
}

// Every caller returns only after fn has finished, and sees its effects.
WEFT_RUNTIME_TEST(Once, ConcurrentCallersWaitForFn) {
  weft::once once;
  int value = 0;  // plain: fn's completion happens before every call returns
  std::atomic<int> ran{0};
  weft::atomic<int> wrong{0};
  weft::wait_group wg;
  for (int i = 0; i < 10; ++i)
    wg.go([&] {
      once.call([&] {
        ++ran;
        weft::sleep(2ms);  // others arrive meanwhile and must wait
        value = 42;
      });
      if (value != 42) wrong.fetch_add(1);
    });
  wg.wait();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(wrong.load(), 0);
}

// An exception from fn reaches the caller that ran it; the once is done and
// is not retried (Go's Do). Callers that were waiting return normally.
WEFT_RUNTIME_TEST(Once, ThrowingFnCountsAsDone) {
  weft::once once;
  std::atomic<int> ran{0};
  std::atomic<int> threw{0};
  weft::wait_group wg;
  for (int i = 0; i < 5; ++i)
    wg.go([&] {
      try {
        once.call([&] {
          ++ran;
          weft::sleep(1ms);
          throw std::runtime_error("init failed");
        });
      } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "init failed");
        ++threw;
      }
    });
  wg.wait();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(threw.load(), 1);
  bool again = false;
  once.call([&] { again = true; });
  EXPECT_FALSE(again);
}

WEFT_RUNTIME_TEST(Once, MoveOnlyAndMutableCallables) {
  weft::once once;
  auto p = std::make_unique<int>(7);
  int got = 0;
  once.call([&got, q = std::move(p)]() mutable { got = *q; });
  EXPECT_EQ(got, 7);
}

// The seed's deadlock: onceA's function calls onceB whose function calls
// onceA again. Go dies with "all goroutines are asleep - deadlock!"; so does
// weft::run.
TEST(OnceDeadlock, SeedRecursiveOnceDeadlocks) {
  weft::once once_a, once_b;
  std::function<void()> init_a, init_b;
  init_a = [&] { once_b.call(init_b); };
  init_b = [&] { once_a.call(init_a); };
  try {
    weft::run({.procs = 1, .report_leaks = false}, [&] { once_a.call(init_a); });
    ADD_FAILURE() << "run returned";
  } catch (const weft::panic_error& e) {
    EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
  }
}
