#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

namespace {

// try_acquire(0) succeeds exactly when nobody is queued (it takes nothing).
void wait_until_queued(weft::semaphore& s) {
  while (s.try_acquire(0)) weft::sleep(100us);
}

template <class F>
std::string panic_message(F fn) {
  try {
    fn();
  } catch (const weft::panic_error& e) {
    return e.what();
  }
  return "(no panic)";
}

}  // namespace

WEFT_RUNTIME_SUITE(Semaphore);

WEFT_RUNTIME_TEST(Semaphore, TryAcquireAndRelease) {
  weft::semaphore s(3);
  EXPECT_EQ(s.size(), 3);
  EXPECT_TRUE(s.try_acquire(2));
  EXPECT_FALSE(s.try_acquire(2));
  EXPECT_TRUE(s.try_acquire(1));
  EXPECT_FALSE(s.try_acquire());
  s.release(3);
  EXPECT_FALSE(s.acquire(weft::background(), 3));
  s.release(1);
  s.release(2);
  EXPECT_TRUE(s.try_acquire(3));
  s.release(3);
  EXPECT_TRUE(s.try_acquire(0));
}

WEFT_RUNTIME_TEST(Semaphore, MisusePanics) {
  weft::semaphore s(2);
  EXPECT_EQ(panic_message([&] { s.release(1); }), "semaphore: released more than held");
  ASSERT_TRUE(s.try_acquire(1));
  EXPECT_EQ(panic_message([&] { s.release(2); }), "semaphore: released more than held");
  s.release(1);  // the failed release changed nothing
  EXPECT_TRUE(s.try_acquire(2));
  s.release(2);
  EXPECT_EQ(panic_message([&] { s.try_acquire(-1); }), "semaphore: negative weight");
  EXPECT_EQ(panic_message([&] { (void)s.acquire(weft::background(), -1); }), "semaphore: negative weight");
  EXPECT_EQ(panic_message([] { weft::semaphore bad(-1); }), "semaphore: negative weight");
}

WEFT_RUNTIME_TEST(Semaphore, BlocksUntilReleased) {
  weft::semaphore s(1);
  ASSERT_FALSE(s.acquire(weft::background()));
  auto got = weft::make_chan<weft::error>(1);
  weft::go([&s, got] { got.send(s.acquire(weft::background())); });
  wait_until_queued(s);
  EXPECT_FALSE(got.try_recv().has_value());
  s.release();
  EXPECT_FALSE(*got.recv());
  s.release();
}

WEFT_RUNTIME_TEST(Semaphore, FifoLargeHeadHoldsBackSmallerOnes) {
  weft::semaphore s(10);
  ASSERT_TRUE(s.try_acquire(9));
  auto order = weft::make_chan<int>(2);
  weft::go([&s, order] {
    EXPECT_FALSE(s.acquire(weft::background(), 8));  // does not fit: heads the queue
    order.send(8);
  });
  wait_until_queued(s);
  EXPECT_FALSE(s.try_acquire(1));  // 1 unit is free, but try_acquire never jumps the queue
  weft::go([&s, order] {
    EXPECT_FALSE(s.acquire(weft::background(), 1));  // would fit; waits behind the 8
    order.send(1);
  });
  weft::sleep(20ms);
  EXPECT_FALSE(order.try_recv().has_value());
  s.release(1);  // 2 free: still not enough for the head
  weft::sleep(20ms);
  EXPECT_FALSE(order.try_recv().has_value());
  s.release(8);  // 10 free: the head (8) and then the 1 both fit
  int a = *order.recv(), b = *order.recv();
  EXPECT_EQ(a + b, 9);
  EXPECT_FALSE(s.try_acquire(2));  // 9 held now
  EXPECT_TRUE(s.try_acquire(1));
  s.release(10);
}

WEFT_RUNTIME_TEST(Semaphore, CancelWhileWaitingLeavesTheQueue) {
  weft::semaphore s(1);
  ASSERT_TRUE(s.try_acquire());
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  auto got = weft::make_chan<weft::error>(1);
  weft::go([&s, got, ctx = ctx] { got.send(s.acquire(ctx)); });
  wait_until_queued(s);
  cancel();
  EXPECT_EQ(*got.recv(), weft::canceled);
  EXPECT_TRUE(s.try_acquire(0));  // queue empty again
  s.release();
  EXPECT_TRUE(s.try_acquire());  // nothing was taken by the cancelled waiter
  s.release();
}

WEFT_RUNTIME_TEST(Semaphore, CancelledHeadLetsTheNextThrough) {
  weft::semaphore s(10);
  ASSERT_TRUE(s.try_acquire(5));
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  auto big = weft::make_chan<weft::error>(1);
  auto small = weft::make_chan<weft::error>(1);
  weft::go([&s, big, ctx = ctx] { big.send(s.acquire(ctx, 10)); });
  wait_until_queued(s);
  weft::go([&s, small] { small.send(s.acquire(weft::background(), 2)); });
  weft::sleep(20ms);
  EXPECT_FALSE(small.try_recv().has_value());  // behind the big one
  cancel();
  EXPECT_EQ(*big.recv(), weft::canceled);
  EXPECT_FALSE(*small.recv());  // 2 of the 5 free units
  s.release(7);
}

WEFT_RUNTIME_TEST(Semaphore, DoneContextFailsEvenWhenFree) {
  weft::semaphore s(4);
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  cancel();
  EXPECT_EQ(s.acquire(ctx, 1), weft::canceled);
  EXPECT_TRUE(s.try_acquire(4));  // nothing was taken
  s.release(4);
}

WEFT_RUNTIME_TEST(Semaphore, TooLargeRequestWaitsOnlyForItsContext) {
  weft::semaphore s(2);
  auto [ctx, cancel] = weft::with_timeout(weft::background(), 30ms);
  auto got = weft::make_chan<weft::error>(1);
  weft::go([&s, got, ctx = ctx] { got.send(s.acquire(ctx, 3)); });
  // It does not queue, so it holds nobody back.
  EXPECT_FALSE(s.acquire(weft::background(), 2));
  s.release(2);
  EXPECT_EQ(*got.recv(), weft::deadline_exceeded);
  cancel();
}

WEFT_RUNTIME_TEST(Semaphore, TimeoutWhileQueued) {
  weft::semaphore s(1);
  ASSERT_TRUE(s.try_acquire());
  const auto start = weft::now();  // before the deadline is set: it is at least start + 20ms
  auto [ctx, cancel] = weft::with_timeout(weft::background(), 20ms);
  EXPECT_EQ(s.acquire(ctx), weft::deadline_exceeded);
  EXPECT_GE(weft::now() - start, 20ms);
  cancel();
  s.release();
}

WEFT_RUNTIME_TEST(Semaphore, BoundsConcurrencyAndOrdersMemory) {
  // The units in use never exceed the size; a semaphore of 1 is a mutex whose
  // critical sections are ordered (TSan checks the plain counter).
  weft::semaphore s(3);
  weft::semaphore lock(1);
  std::atomic<int> in_use{0};
  std::atomic<int> worst{0};
  long plain = 0;
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  weft::wait_group wg;
  const int n = 24;
  std::atomic<int> cancelled{0};
  for (int i = 0; i < n; ++i) {
    wg.add(1);
    weft::go([&, i, ctx = ctx] {
      const std::int64_t w = 1 + i % 3;
      for (int round = 0; round < 20; ++round) {
        if (weft::error e = s.acquire(i % 5 == 0 ? ctx : weft::background(), w)) {
          EXPECT_EQ(e, weft::canceled);
          cancelled.fetch_add(1);
          break;
        }
        int now = in_use.fetch_add(static_cast<int>(w)) + static_cast<int>(w);
        int seen = worst.load();
        while (now > seen && !worst.compare_exchange_weak(seen, now)) {
        }
        EXPECT_FALSE(lock.acquire(weft::background()));
        ++plain;
        lock.release();
        weft::yield();
        in_use.fetch_sub(static_cast<int>(w));
        s.release(w);
      }
      wg.done();
    });
  }
  weft::sleep(1ms);
  cancel();
  wg.wait();
  EXPECT_LE(worst.load(), 3);
  EXPECT_EQ(in_use.load(), 0);
  EXPECT_TRUE(s.try_acquire(3));  // every unit came back
  s.release(3);
  EXPECT_GT(plain, 0);
}
