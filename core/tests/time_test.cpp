// sleep, after, tick, timers, tickers, after_func — against the runtime's clock
// (real time here, virtual time under the explorer: the assertions hold in both).
#include <weft/weft.hpp>

#include <atomic>
#include <memory>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

WEFT_RUNTIME_SUITE(Time);

WEFT_RUNTIME_TEST(Time, SleepWaitsAtLeastTheDuration) {
  auto t0 = weft::now();
  weft::sleep(3ms);
  EXPECT_GE(weft::now() - t0, 3ms);
  t0 = weft::now();
  weft::sleep(0ms);
  weft::sleep(-5ms);  // Go: returns at once
  weft::sleep_until(t0 - 1s);
}

WEFT_RUNTIME_TEST(Time, ManySleepersWakeNoEarlierThanTheirDeadlines) {
  struct woke {
    int i;
    weft::duration late;
  };
  auto order = weft::make_chan<woke>(5);
  const auto start = weft::now();
  for (int i : {4, 1, 3, 0, 2})
    weft::go([=] {
      const auto deadline = start + std::chrono::milliseconds(2 + 4 * i);
      weft::sleep_until(deadline);
      order.send({i, weft::now() - deadline});
    });
  for (int k = 0; k < 5; ++k) {
    auto w = order.recv();
    ASSERT_TRUE(w.has_value());
    EXPECT_GE(w->late.count(), 0) << "sleeper " << w->i << " woke early";
    // In virtual time the clock only moves when nothing can run, so each
    // sleeper reports before the next deadline is reached: exact order. Real
    // time under load promises no order between goroutines woken close together.
    if (!weft_test::on_real_scheduler()) {
      EXPECT_EQ(w->i, k);
    }
  }
}

WEFT_RUNTIME_TEST(Time, AfterDeliversTheFiringTime) {
  auto t0 = weft::now();
  auto c = weft::after(2ms);
  EXPECT_EQ(c.cap(), 1u);
  auto fired = c.recv();
  ASSERT_TRUE(fired.has_value());
  EXPECT_GE(*fired - t0, 2ms);
  EXPECT_GE(weft::now(), *fired);
}

WEFT_RUNTIME_TEST(Time, TimerStopBeforeFiring) {
  auto t = weft::new_timer(1h);
  EXPECT_TRUE(t.stop()) << "stop of a pending timer must report it stopped it";
  EXPECT_FALSE(t.stop()) << "a second stop finds nothing pending";
  EXPECT_EQ(weft::select(weft::on_recv(t.c()), weft::on_recv(weft::after(3ms))), 1u)
      << "a stopped timer fired";
}

WEFT_RUNTIME_TEST(Time, TimerStopAfterFiring) {
  auto t = weft::new_timer(1ms);
  auto v = t.c().recv();
  EXPECT_TRUE(v.has_value());
  EXPECT_FALSE(t.stop()) << "stop after firing must return false";
}

WEFT_RUNTIME_TEST(Time, TimerResetReportsWhetherItWasActive) {
  auto t = weft::new_timer(1h);
  EXPECT_TRUE(t.reset(2ms)) << "reset of a pending timer returns true";
  EXPECT_TRUE(t.c().recv().has_value());
  EXPECT_FALSE(t.reset(2ms)) << "reset of a fired timer returns false";
  EXPECT_TRUE(t.c().recv().has_value()) << "a reset timer fires again";
  t.stop();
  EXPECT_FALSE(t.reset(1h));
  EXPECT_TRUE(t.stop());
}

WEFT_RUNTIME_TEST(Time, DroppedTimerHandleStillFires) {
  weft::recv_chan<weft::time_point> c;
  {
    auto t = weft::new_timer(2ms);
    c = t.c();
  }  // handle gone: the timer lives until it fires, as in Go
  EXPECT_TRUE(c.recv().has_value());
}

WEFT_RUNTIME_TEST(Time, AfterFuncRunsInItsOwnGoroutine) {
  auto ran = weft::make_chan<std::uint64_t>(1);
  auto t = weft::after_func(2ms, [=] { ran.send(weft::num_goroutine()); });
  EXPECT_TRUE(t.c().is_nil()) << "an after_func timer has no channel";
  auto n = ran.recv();
  ASSERT_TRUE(n.has_value());
  EXPECT_GE(*n, 2u) << "after_func's function did not run in a goroutine of its own";

  auto never = weft::make_chan<int>(1);
  auto t2 = weft::after_func(1h, [=] { never.send(1); });
  EXPECT_TRUE(t2.stop());
  EXPECT_THROW(weft::after_func(1ms, std::function<void()>{}), weft::panic_error);
}

WEFT_RUNTIME_TEST(Time, TickerTicksAndStops) {
  // The clock first: ticks are due from the ticker's start, and read after
  // it, t0 could be late by however long this goroutine waited in between.
  auto t0 = weft::now();
  auto tk = weft::new_ticker(1ms);
  weft::time_point last{};
  for (int i = 0; i < 5; ++i) {
    auto v = tk.c().recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_GT(*v, last);
    last = *v;
  }
  EXPECT_GE(weft::now() - t0, 5ms);
  tk.stop();
  tk.c().try_recv();  // a tick may have been waiting
  EXPECT_EQ(weft::select(weft::on_recv(tk.c()), weft::on_recv(weft::after(5ms))), 1u)
      << "a stopped ticker ticked";
  tk.reset(1ms);
  EXPECT_TRUE(tk.c().recv().has_value());
  tk.stop();
}

WEFT_RUNTIME_TEST(Time, SlowReceiverMissesTicksInsteadOfQueueing) {
  auto tk = weft::new_ticker(1ms);
  weft::sleep(20ms);
  EXPECT_LE(tk.c().len(), 1u) << "ticks must not pile up (capacity 1)";
  tk.stop();
}

WEFT_RUNTIME_TEST(Time, TickerAndTickArguments) {
  EXPECT_THROW(weft::new_ticker(0ms), weft::panic_error);
  try {
    weft::new_ticker(-1ms);
  } catch (const weft::panic_error& e) {
    EXPECT_STREQ(e.what(), "non-positive interval for NewTicker");
  }
  EXPECT_TRUE(weft::tick(0ms).is_nil());
  auto c = weft::tick(1ms);
  EXPECT_TRUE(c.recv().has_value());
  weft::ticker none;
  EXPECT_THROW(none.reset(1ms), weft::panic_error);
}

WEFT_RUNTIME_TEST(Time, TimersDueAtTheSameInstantAllFire) {
  auto deadline = weft::now() + 3ms;
  auto done = weft::make_chan<int>(3);
  for (int i = 0; i < 3; ++i)
    weft::go([=] {
      weft::sleep_until(deadline);
      done.send(i);
    });
  int sum = 0;
  for (int i = 0; i < 3; ++i) sum += *done.recv();
  EXPECT_EQ(sum, 3);
}

WEFT_RUNTIME_TEST(Time, SelectTimeoutPattern) {
  auto work = weft::make_chan<int>();
  auto finished = weft::make_chan<weft::unit>();
  weft::go([=] {
    weft::sleep(50ms);
    work.try_send(1);
    finished.close();
  });
  bool timed_out = false;
  weft::select(weft::on_recv(work), weft::on_recv(weft::after(1ms), [&](auto) { timed_out = true; }));
  EXPECT_TRUE(timed_out);
  finished.recv();  // never leave a goroutine behind
}
