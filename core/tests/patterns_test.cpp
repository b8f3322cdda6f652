// weft::patterns on every scheduler: the real one at 1, 2 and 4 procs, and the
// explorer (random, PCT) in virtual time. Most tests are the book's own demos.
// Timing patterns are checked by logic, never by tight real-time bounds: a
// worker that cannot pulse must be declared unhealthy; one that waits must
// pulse before a generous deadline; a replica that would take an hour must be
// cancelled. And every test checks that closing done brings the goroutine
// count back to where it was before the pattern started.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;
namespace wp = weft::patterns;

namespace {

using sig_chan = weft::recv_chan<weft::unit>;

// The goroutines a pattern started take a moment to leave after done closes.
void expect_goroutines_back_to(std::size_t before) {
  for (int i = 0; i < 5000 && weft::num_goroutine() > before; ++i) weft::sleep(1ms);
  EXPECT_EQ(weft::num_goroutine(), before) << "a pattern left goroutines behind";
}

bool closed_now(const sig_chan& c) {
  bool closed = false;
  weft::select(weft::on_recv(c, [&](std::optional<weft::unit> v) { closed = !v; }), weft::on_default());
  return closed;
}

// The book's sig: a channel closed after d (or when done closes, so that
// the 2-hour ones do not outlive the test).
sig_chan sig(sig_chan done, weft::duration d) {
  auto c = weft::make_chan<weft::unit>();
  weft::go([=] {
    auto t = weft::new_timer(d);
    weft::select(weft::on_recv(t.c()), weft::on_recv(done));
    t.stop();
    c.close();
  });
  return c;
}

template <class C>
auto drain(const C& c) {
  std::vector<typename weft::patterns::detail::chan_value_t<C>> v;
  for (auto&& x : c) v.push_back(std::move(x));
  return v;
}

}  // namespace

WEFT_RUNTIME_SUITE(Patterns);

// ---------------------------------------------------------------------------
// or-channel

WEFT_RUNTIME_TEST(Patterns, OrChannelClosesWithTheFirstSignal) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  const auto start = weft::now();
  // The book's demo (its 1s shortened to 10ms for the real scheduler).
  auto any = wp::or_channel(std::vector<sig_chan>{sig(done, 2h), sig(done, 5min), sig(done, 10ms), sig(done, 1h),
                                                sig(done, 1min)});
  EXPECT_FALSE(any.recv().has_value());
  const auto took = weft::since(start);
  EXPECT_GE(took, 10ms);
  EXPECT_LT(took, 1min);
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, OrChannelVariadicTakesMixedChannels) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto never = weft::make_chan<int>();
  // Before the timer starts: read after, it may be up to the creation's
  // duration late, and the timer fire that much less than 10 ms after it.
  const auto start = weft::now();
  auto timer = weft::new_timer(10ms);
  auto any = wp::or_channel(sig(done, 2h), never, timer.c(), sig(done, 1h));
  EXPECT_FALSE(any.recv().has_value());
  EXPECT_GE(weft::since(start), 10ms);
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, OrChannelOfManyTearsDownItsWholeTree) {
  // Whichever input closes, the result closes and every goroutine of the
  // tree (about n/3 of them) returns, while the other inputs stay open.
  for (std::size_t n : {2u, 3u, 4u, 7u, 20u}) {
    for (std::size_t k : {std::size_t{0}, n / 2, n - 1}) {
      const auto before = weft::num_goroutine();
      std::vector<weft::chan<weft::unit>> ins;
      for (std::size_t i = 0; i < n; ++i) ins.push_back(weft::make_chan<weft::unit>());
      auto any = wp::or_channel(ins);
      weft::sleep(1ms);
      EXPECT_FALSE(closed_now(any)) << "n=" << n;
      ins[k].close();
      EXPECT_FALSE(any.recv().has_value());
      expect_goroutines_back_to(before);
    }
  }
}

WEFT_RUNTIME_TEST(Patterns, OrChannelEdgeCases) {
  EXPECT_TRUE(wp::or_channel(std::vector<sig_chan>{}).is_nil());
  EXPECT_TRUE(wp::or_channel().is_nil());
  auto one = weft::make_chan<weft::unit>();
  EXPECT_TRUE(wp::or_channel(std::vector<sig_chan>{one}) == sig_chan(one));
  EXPECT_TRUE(wp::or_channel(one) == sig_chan(one));
  // Braced lists work as vectors do.
  auto two = weft::make_chan<weft::unit>();
  auto braced = wp::or_channel({one, two});
  two.close();
  EXPECT_FALSE(braced.recv().has_value());
  // A value (not only a close) fires it: weft::after's channels.
  auto t = weft::new_timer(1ms);
  EXPECT_FALSE(wp::or_channel(std::vector<weft::recv_chan<weft::time_point>>{t.c()}).recv().has_value());
}

// ---------------------------------------------------------------------------
// or-done

WEFT_RUNTIME_TEST(Patterns, OrDoneStopsARangeOverAChannelThatNeverCloses) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto theirs = weft::make_chan<int>(3);  // never closed: not ours to close
  for (int i = 1; i <= 3; ++i) theirs.send(i);
  auto mine = wp::or_done(done, theirs);
  std::vector<int> got;
  for (int v : mine) {
    got.push_back(v);
    if (got.size() == 3) done.close();
  }
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, OrDoneEndsWithItsInput) {
  auto in = weft::make_chan<int>(4);
  for (int i = 0; i < 4; ++i) in.send(i);
  in.close();
  EXPECT_EQ(drain(wp::or_done(sig_chan{}, in)), (std::vector<int>{0, 1, 2, 3}));
}

WEFT_RUNTIME_TEST(Patterns, OrDoneStopsWithinOneValueAfterDone) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto out = wp::or_done(done, wp::repeat(done, {7}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out.recv(), 7);
  done.close();
  EXPECT_LE(drain(out).size(), 1u);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, OrDoneFollowsAContext) {
  const auto before = weft::num_goroutine();
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  auto out = wp::or_done(ctx.done(), wp::repeat(ctx.done(), {1, 2}));
  EXPECT_EQ(out.recv(), 1);
  EXPECT_EQ(out.recv(), 2);
  cancel();
  EXPECT_LE(drain(out).size(), 1u);
  expect_goroutines_back_to(before);
}

// ---------------------------------------------------------------------------
// tee

WEFT_RUNTIME_TEST(Patterns, TeeSendsEveryValueToBoth) {
  auto done = weft::make_chan<weft::unit>();
  // The book's demo: read out1, and out2 in between.
  auto [out1, out2] = wp::tee(done, wp::take(done, wp::repeat(done, {1, 2}), 4));
  std::vector<int> a, b;
  for (int v1 : out1) {
    a.push_back(v1);
    auto v2 = out2.recv();
    ASSERT_TRUE(v2.has_value());
    b.push_back(*v2);
  }
  EXPECT_FALSE(out2.recv().has_value());
  EXPECT_EQ(a, (std::vector<int>{1, 2, 1, 2}));
  EXPECT_EQ(a, b);
  done.close();
}

WEFT_RUNTIME_TEST(Patterns, TeeOutputsMoveInLockStepAndStopOnDone) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto [out1, out2] = wp::tee(done, wp::repeat_fn(done, [n = 0]() mutable { return n++; }));
  // Consumers on both sides, each taking values in whichever order they come.
  auto left = weft::make_chan<std::vector<int>>(1);
  weft::go([&, out1 = out1] {
    std::vector<int> got;
    for (int i = 0; i < 10; ++i) got.push_back(*out1.recv());
    left.send(got);
  });
  std::vector<int> right;
  for (int i = 0; i < 10; ++i) right.push_back(*out2.recv());
  EXPECT_EQ(*left.recv(), right);
  done.close();
  drain(out1);
  drain(out2);
  expect_goroutines_back_to(before);
}

// ---------------------------------------------------------------------------
// bridge

WEFT_RUNTIME_TEST(Patterns, BridgeFlattensAChannelOfChannelsInOrder) {
  // The book's genVals: ten channels of one value each.
  auto done = weft::make_chan<weft::unit>();
  auto streams = weft::make_chan<weft::recv_chan<int>>();
  weft::go([=] {
    for (int i = 0; i < 10; ++i) {
      auto s = weft::make_chan<int>(1);
      s.send(i);
      s.close();
      streams.send(s);
    }
    streams.close();
  });
  std::vector<int> want(10);
  for (int i = 0; i < 10; ++i) want[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(drain(wp::bridge(done, streams)), want);
  done.close();
}

WEFT_RUNTIME_TEST(Patterns, BridgeDrainsEachInnerChannelBeforeTheNext) {
  auto done = weft::make_chan<weft::unit>();
  auto streams = weft::make_chan<weft::chan<int>>(3);
  std::vector<int> want;
  for (int s = 0; s < 3; ++s) {
    auto inner = weft::make_chan<int>();
    streams.send(inner);
    weft::go([=] {
      for (int i = 0; i < 4; ++i) inner.send(s * 10 + i);
      inner.close();
    });
    for (int i = 0; i < 4; ++i) want.push_back(s * 10 + i);
  }
  streams.close();
  EXPECT_EQ(drain(wp::bridge(done, streams)), want);
  done.close();
}

WEFT_RUNTIME_TEST(Patterns, BridgeStopsOnDoneWhileAnInnerChannelIsIdle) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto streams = weft::make_chan<weft::recv_chan<int>>(1);
  auto idle = weft::make_chan<int>(1);
  idle.send(5);
  streams.send(idle);  // neither channel is ever closed
  auto out = wp::bridge(done, streams);
  EXPECT_EQ(out.recv(), 5);
  done.close();
  EXPECT_FALSE(out.recv().has_value());
  expect_goroutines_back_to(before);
}

// ---------------------------------------------------------------------------
// generators

WEFT_RUNTIME_TEST(Patterns, TakeOfRepeatIsTheCyclicPrefix) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  EXPECT_EQ(drain(wp::take(done, wp::repeat(done, {1, 2, 3}), 7)), (std::vector<int>{1, 2, 3, 1, 2, 3, 1}));
  // The book's toString example.
  std::string message;
  for (const std::string& token : wp::take(done, wp::repeat(done, {std::string("I"), std::string("am.")}), 5))
    message += token;
  EXPECT_EQ(message, "Iam.Iam.I");
  done.close();  // the repeats are blocked on their next send until now
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, RepeatFnComputesOnlyOneValueAhead) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto got = drain(wp::take(done, wp::repeat_fn(done, [calls] { return calls->fetch_add(1); }), 10));
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  done.close();
  expect_goroutines_back_to(before);
  EXPECT_GE(calls->load(), 10);
  EXPECT_LE(calls->load(), 11);
}

WEFT_RUNTIME_TEST(Patterns, GeneratorsEdgeCases) {
  auto done = weft::make_chan<weft::unit>();
  EXPECT_TRUE(drain(wp::repeat(done, std::vector<int>{})).empty());
  EXPECT_TRUE(drain(wp::take(done, wp::repeat(done, {1}), 0)).empty());
  EXPECT_EQ(drain(wp::generator(done, {4, 5, 6})), (std::vector<int>{4, 5, 6}));
  // The book's variadic forms.
  EXPECT_EQ(drain(wp::generator(done, 4, 5)), (std::vector<int>{4, 5}));
  EXPECT_EQ(drain(wp::take(done, wp::repeat(done, 8, 9), 3)), (std::vector<int>{8, 9, 8}));
  EXPECT_EQ(drain(wp::take<int>(done, wp::repeat<int>(done, {1}), 2)), (std::vector<int>{1, 1}));
  // take stops early when its input closes.
  EXPECT_EQ(drain(wp::take(done, wp::generator(done, {1, 2}), 5)), (std::vector<int>{1, 2}));
  // Move-only values go through generator and take.
  std::vector<std::unique_ptr<int>> boxes;
  boxes.push_back(std::make_unique<int>(3));
  auto moved = drain(wp::take(done, wp::generator(done, std::move(boxes)), 1));
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(*moved[0], 3);
  done.close();
}

WEFT_RUNTIME_TEST(Patterns, TakeStopsOnDoneWhileItsInputIsIdle) {
  // The book's `takeStream <- <-valueStream` would wait on the input forever.
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto idle = weft::make_chan<int>();
  auto out = wp::take(done, idle, 5);
  weft::sleep(1ms);
  done.close();
  EXPECT_FALSE(out.recv().has_value());
  expect_goroutines_back_to(before);
}

// ---------------------------------------------------------------------------
// pipelines, queuing, fan-out/fan-in

WEFT_RUNTIME_TEST(Patterns, PipelineOfStages) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  // The book: multiply(add(multiply(generator(1,2,3,4), 2), 1), 2).
  auto multiply = [&](weft::recv_chan<int> in, int m) { return wp::stage(done, in, [m](int v) { return v * m; }); };
  auto add = [&](weft::recv_chan<int> in, int a) { return wp::stage(done, in, [a](int v) { return v + a; }); };
  auto pipeline = multiply(add(multiply(wp::generator(done, {1, 2, 3, 4}), 2), 1), 2);
  EXPECT_EQ(drain(pipeline), (std::vector<int>{6, 10, 14, 18}));
  // Breaking out early: closing done stops every stage.
  auto endless = multiply(add(wp::repeat(done, {1}), 1), 3);
  EXPECT_EQ(endless.recv(), 6);
  done.close();
  drain(endless);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, StageFnMayWatchDone) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  // A stage whose work is slow (an hour): it gives up when done closes.
  auto out = wp::stage(done, wp::generator(done, {1, 2}), [](wp::done_chan d, int v) {
    weft::select(weft::on_recv(d), weft::on_recv(weft::after(1h)));
    return v;
  });
  weft::sleep(1ms);
  done.close();
  drain(out);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, BufferLetsTheProducerRunAhead) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto produced = std::make_shared<std::atomic<int>>(0);
  auto src = weft::make_chan<int>();
  weft::go([=] {
    for (int i = 0; i < 10; ++i) {
      if (!wp::detail::send_or_done(done, src, i)) break;
      produced->fetch_add(1);
    }
    src.close();
  });
  auto queued = wp::buffer(done, src, 3);
  // With nobody reading, the producer gets 4 values ahead: 3 queued and one in
  // the buffer's hands. Never more.
  for (int i = 0; i < 5000 && produced->load() < 4; ++i) weft::sleep(1ms);
  EXPECT_EQ(produced->load(), 4);
  weft::sleep(5ms);
  EXPECT_EQ(produced->load(), 4);
  EXPECT_EQ(queued.len(), 3u);
  std::vector<int> want(10);
  for (int i = 0; i < 10; ++i) want[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(drain(queued), want);
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, FanOutThenFanInKeepsEveryValue) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  std::vector<long> nums;
  for (long i = 1; i <= 50; ++i) nums.push_back(i);
  auto workers = wp::fan_out(done, wp::generator(done, nums), 4, [](long v) { return v * v; });
  ASSERT_EQ(workers.size(), 4u);
  auto got = drain(wp::fan_in(done, workers));
  std::sort(got.begin(), got.end());
  std::vector<long> want;
  for (long v : nums) want.push_back(v * v);
  EXPECT_EQ(got, want);
  // Fan-in's other spellings.
  auto a = weft::make_chan<long>(1), b = weft::make_chan<long>(1);
  a.send(1);
  b.send(2);
  a.close();
  b.close();
  auto braced = drain(wp::fan_in(done, {a, b}));
  std::sort(braced.begin(), braced.end());
  EXPECT_EQ(braced, (std::vector<long>{1, 2}));
  EXPECT_TRUE(drain(wp::fan_in(done, weft::recv_chan<long>(a), b)).empty());
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, FanInStopsOnDoneWhileInputsAreIdle) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  std::vector<weft::chan<int>> ins{weft::make_chan<int>(1), weft::make_chan<int>(), weft::make_chan<int>()};
  ins[0].send(1);
  auto out = wp::fan_in(done, ins);
  EXPECT_EQ(out.recv(), 1);
  done.close();
  EXPECT_FALSE(out.recv().has_value());
  expect_goroutines_back_to(before);
  // No inputs: closed at once.
  EXPECT_FALSE(wp::fan_in(done, std::vector<weft::recv_chan<int>>{}).recv().has_value());
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, FanOutWorkersStopOnDoneMidWork) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto outs = wp::fan_out(done, wp::repeat(done, {1}), 3, [](wp::done_chan d, int v) {
    weft::select(weft::on_recv(d), weft::on_recv(weft::after(1h)));  // "slow work"
    return v;
  });
  weft::sleep(1ms);
  done.close();
  for (auto& o : outs) drain(o);
  expect_goroutines_back_to(before);
}

// ---------------------------------------------------------------------------
// heartbeats

WEFT_RUNTIME_TEST(Patterns, IntervalHeartbeatPulsesWhileWaitingForItsConsumer) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto [pulses, results] = wp::heartbeat(done, 1ms, wp::generator(done, {0, 1, 2, 3, 5}));
  // The book's TestDoWork_GeneratesAllNumbers: wait for the first pulse (the
  // worker is waiting for us to take a result, so it must pulse), then read
  // everything, with a deadline that only a broken worker would miss.
  bool pulsed = false;
  weft::select(weft::on_recv(pulses, [&](auto) { pulsed = true; }), weft::on_recv(weft::after(10s)));
  EXPECT_TRUE(pulsed);
  std::vector<int> got;
  for (bool more = true; more;) {
    weft::select(weft::on_recv(results,
                               [&](std::optional<int> r) {
                                 if (r)
                                   got.push_back(*r);
                                 else
                                   more = false;
                               }),
                 weft::on_recv(pulses), weft::on_recv(weft::after(10s), [&](auto) {
                   ADD_FAILURE() << "test timed out";
                   more = false;
                 }));
  }
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 5}));
  for (auto p : pulses) (void)p;  // closed with the results
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, IntervalHeartbeatRevealsAWedgedWorker) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto jobs = weft::make_chan<int>(1);
  jobs.send(1);
  // A worker that deadlocks inside its work (until done closes).
  auto [pulses, results] = wp::heartbeat(done, 1ms, jobs, [](wp::done_chan d, int v) {
    d.recv();
    return v;
  });
  // The book's monitor: pulses are fine, silence for 2 intervals is not.
  bool unhealthy = false;
  for (int guard = 0; guard < 100000 && !unhealthy; ++guard)
    weft::select(weft::on_recv(pulses), weft::on_recv(results, [&](auto) { ADD_FAILURE() << "a wedged result"; }),
                 weft::on_recv(weft::after(2ms), [&](auto) { unhealthy = true; }));
  EXPECT_TRUE(unhealthy);
  done.close();
  drain(results);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, IntervalHeartbeatCarriesMoveOnlyResults) {
  // The worker offers the same result over many select rounds (a pulse
  // between each): the value must survive the rounds it is not sent in.
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto [pulses, results] = wp::heartbeat(done, 1ms, wp::generator(done, {1, 2, 3}),
                                         [](int v) { return std::make_unique<int>(v * 10); });
  for (int want : {10, 20, 30}) {
    pulses.recv();  // the worker has been through at least one round
    weft::sleep(3ms);
    auto r = results.recv();
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(*r);
    EXPECT_EQ(**r, want);
  }
  EXPECT_FALSE(results.recv().has_value());
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, PerUnitHeartbeatPulsesOncePerUnitOfWork) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto [pulses, results] = wp::heartbeat(done, wp::generator(done, {0, 1, 2, 3, 5}));
  // A pulse, then its result, strictly alternating.
  for (int want : {0, 1, 2, 3, 5}) {
    EXPECT_TRUE(pulses.recv().has_value());
    EXPECT_EQ(results.recv(), want);
  }
  EXPECT_FALSE(results.recv().has_value());
  EXPECT_FALSE(pulses.recv().has_value());
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, PerUnitHeartbeatStopsOnDone) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto [pulses, results] = wp::heartbeat(done, wp::repeat(done, {1}), [](int v) { return v + 1; });
  EXPECT_EQ(results.recv(), 2);
  done.close();
  drain(results);
  drain(pulses);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, HeartbeatRejectsANonPositiveInterval) {
  auto in = weft::make_chan<int>();
  EXPECT_THROW(wp::heartbeat(sig_chan{}, 0ms, in), weft::panic_error);
}

// ---------------------------------------------------------------------------
// replicated requests

WEFT_RUNTIME_TEST(Patterns, ReplicatedTakesTheFastestAndCancelsTheRest) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  const auto start = weft::now();
  // Replica 3 answers in 10ms, the others would take over an hour: only a
  // cancelled replica lets the call return (it waits for all of them).
  auto first = wp::replicated(done, 10, [](wp::done_chan cancel, std::size_t id) {
    const weft::duration load = id == 3 ? weft::duration(10ms) : weft::duration(1h + static_cast<int>(id) * 1min);
    auto t = weft::new_timer(load);
    weft::select(weft::on_recv(cancel), weft::on_recv(t.c()));
    t.stop();
    return id;
  });
  EXPECT_EQ(first, 3u);
  EXPECT_LT(weft::since(start), 1h);
  expect_goroutines_back_to(before);  // the hour-long replicas were cancelled
  done.close();
}

WEFT_RUNTIME_TEST(Patterns, ReplicatedWithRandomLoads) {
  // The book's demo: 10 handlers with a random 1-5 s load each.
  std::vector<weft::duration> load;
  unsigned x = 12345;
  for (int i = 0; i < 10; ++i) {
    x = x * 1103515245u + 12345u;
    load.push_back(std::chrono::milliseconds(1 + (x >> 16) % 5));
  }
  auto took = std::make_shared<std::vector<weft::duration>>(10);
  auto first = wp::replicated(sig_chan{}, 10, [&load, took](wp::done_chan cancel, std::size_t id) {
    const auto started = weft::now();
    auto t = weft::new_timer(load[id]);
    weft::select(weft::on_recv(cancel), weft::on_recv(t.c()));
    t.stop();
    (*took)[id] = weft::since(started);
    return id;
  });
  ASSERT_TRUE(first.has_value());
  ASSERT_LT(*first, 10u);
  // The winner served its full load.
  EXPECT_GE((*took)[*first], load[*first]);
}

WEFT_RUNTIME_TEST(Patterns, ReplicatedGivesUpWhenDoneCloses) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  weft::go([=] {
    weft::sleep(5ms);
    done.close();
  });
  auto first = wp::replicated(done, 4, [](wp::done_chan cancel) {
    cancel.recv();  // never answers on its own
    return 1;
  });
  EXPECT_FALSE(first.has_value());
  expect_goroutines_back_to(before);
  EXPECT_FALSE(wp::replicated(done, 0, [](wp::done_chan) { return 1; }).has_value());
}

WEFT_RUNTIME_TEST(Patterns, ReplicatedWithAContext) {
  const auto before = weft::num_goroutine();
  auto first = wp::replicated(weft::background(), 5, [](const weft::context& ctx, std::size_t id) {
    if (id != 2) ctx.done().recv();  // only replica 2 answers; the rest wait to be cancelled
    return std::string("replica ") + std::to_string(id) + (ctx.err() ? " (cancelled)" : "");
  });
  EXPECT_EQ(first, "replica 2");
  expect_goroutines_back_to(before);
  // A deadline that passes before anyone answers.
  auto [ctx, cancel] = weft::with_timeout(weft::background(), 5ms);
  auto none = wp::replicated(ctx, 3, [](const weft::context& c, std::size_t) {
    c.done().recv();
    return 0;
  });
  EXPECT_FALSE(none.has_value());
  EXPECT_TRUE(weft::is(ctx.err(), weft::deadline_exceeded));
  cancel();
  expect_goroutines_back_to(before);
}

// ---------------------------------------------------------------------------
// stewards

WEFT_RUNTIME_TEST(Patterns, StewardRestartsAnIrresponsibleWard) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto starts = weft::make_chan<weft::unit>(64);
  // The book's irresponsible ward: it never pulses, and halts only when told.
  wp::ward_fn irresponsible = [starts](wp::done_chan d, weft::duration) {
    starts.try_send({});  // "ward: Hello, I'm irresponsible!"
    weft::go([d] { d.recv(); });  // "ward: I am halting."
    return weft::recv_chan<weft::unit>{};
  };
  auto with_steward = wp::steward(20ms, irresponsible);
  auto steward_pulses = with_steward(done, 20ms);
  // Started once, then restarted at every timeout.
  for (int i = 0; i < 3; ++i) {
    bool started = false;
    weft::select(weft::on_recv(starts, [&](auto) { started = true; }), weft::on_recv(weft::after(10s)));
    ASSERT_TRUE(started) << "start " << i;
  }
  done.close();  // "main: halting steward and ward."
  drain(steward_pulses);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, StewardLeavesAHealthyWardAlone) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto starts = std::make_shared<std::atomic<int>>(0);
  // A ward that pulses far more often than it must.
  wp::ward_fn healthy = [starts](wp::done_chan d, weft::duration) {
    starts->fetch_add(1);
    auto beats = weft::make_chan<weft::unit>(1);
    weft::go([d, beats] {
      auto t = weft::new_ticker(5ms);
      while (!closed_now(d)) {
        weft::select(weft::on_recv(d), weft::on_recv(t.c(), [&](auto) { wp::pulse(beats); }));
      }
      t.stop();
    });
    return weft::recv_chan<weft::unit>(beats);
  };
  auto steward_pulses = wp::steward(100ms, healthy)(done, 0ms);
  weft::sleep(350ms);  // three and a half timeouts
  EXPECT_EQ(starts->load(), 1);
  done.close();
  drain(steward_pulses);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, StewardHealsAWardThatDiesMidStream) {
  // The book's doWorkFn: the ward sends 1, 2, then dies on -1; the steward
  // restarts it and the consumer, reading through bridge, keeps getting values.
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto streams = weft::make_chan<weft::recv_chan<int>>();
  auto values = wp::bridge(done, streams);
  const std::vector<int> ints{1, 2, -1, 3, 4, 5};
  wp::ward_fn ward = [streams, ints](wp::done_chan d, weft::duration pulse_interval) {
    auto out = weft::make_chan<int>();
    auto beats = weft::make_chan<weft::unit>(1);
    weft::go([=] {
      if (!wp::detail::send_or_done(d, streams, weft::recv_chan<int>(out))) {
        out.close();
        return;
      }
      auto pulse = weft::new_ticker(pulse_interval);
      for (bool alive = true; alive;) {
        for (int v : ints) {
          if (v < 0) {  // "negative value": the ward dies, its heartbeat goes quiet
            alive = false;
            break;
          }
          bool sent = false;
          while (alive && !sent)
            weft::select(weft::on_recv(pulse.c(), [&](auto) { wp::pulse(beats); }),
                         weft::on_send(out, v, [&] { sent = true; }),
                         weft::on_recv(d, [&](auto) { alive = false; }));
          if (!alive) break;
        }
      }
      pulse.stop();
      out.close();
    });
    return weft::recv_chan<weft::unit>(beats);
  };
  auto steward_pulses = wp::steward(50ms, ward)(done, 1h);
  auto got = drain(wp::take(done, values, 6));
  // Each incarnation sends a prefix of 1, 2 before it dies (all of it unless
  // the steward restarted a ward that was merely slow).
  ASSERT_EQ(got.size(), 6u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i] == 1 || got[i] == 2) << got[i];
    if (got[i] == 2) {
      EXPECT_TRUE(i > 0 && got[i - 1] == 1);
    }
  }
  done.close();
  drain(steward_pulses);
  drain(values);
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, StewardsNest) {
  // A steward is a ward: a steward of a steward of an irresponsible ward.
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  auto starts = weft::make_chan<weft::unit>(64);
  wp::ward_fn irresponsible = [starts](wp::done_chan d, weft::duration) {
    starts.try_send({});
    weft::go([d] { d.recv(); });
    return weft::recv_chan<weft::unit>{};
  };
  auto outer = wp::steward(1h, wp::steward(20ms, irresponsible));
  auto pulses = outer(done, 1h);
  for (int i = 0; i < 3; ++i) {
    bool started = false;
    weft::select(weft::on_recv(starts, [&](auto) { started = true; }), weft::on_recv(weft::after(10s)));
    ASSERT_TRUE(started);
  }
  done.close();
  drain(pulses);
  expect_goroutines_back_to(before);
  EXPECT_THROW(wp::steward(0ms, irresponsible), weft::panic_error);
}

// ---------------------------------------------------------------------------
// result<T>: errors travel with the results

namespace {
struct response {
  std::string status;
};
wp::result<response> fake_get(const std::string& url) {
  if (url.find("badhost") != std::string::npos) return weft::error{"dial tcp: lookup badhost: no such host"};
  return response{"200 OK"};
}
}  // namespace

WEFT_RUNTIME_TEST(Patterns, ResultsCarryErrorsToTheGoroutineThatCanDecide) {
  const auto before = weft::num_goroutine();
  auto done = weft::make_chan<weft::unit>();
  // The book's checkStatus: the worker sends results and errors alike; main
  // decides, and stops after too many errors.
  auto check_status = [&](std::vector<std::string> urls) {
    auto results = weft::make_chan<wp::result<response>>();
    weft::go([=, d = sig_chan(done)] {
      for (const auto& url : urls)
        if (!wp::detail::send_or_done(d, results, fake_get(url))) break;
      results.close();
    });
    return weft::recv_chan<wp::result<response>>(results);
  };
  int errors = 0, ok = 0;
  for (auto r : check_status({"a", "https://badhost", "b", "badhost1", "badhost2", "c", "d"})) {
    if (r.err()) {
      EXPECT_FALSE(r.ok());
      EXPECT_EQ(r.err().message(), "dial tcp: lookup badhost: no such host");
      if (++errors >= 3) break;  // "Too many errors, breaking!"
      continue;
    }
    EXPECT_EQ(r->status, "200 OK");
    ++ok;
  }
  EXPECT_EQ(errors, 3);
  EXPECT_EQ(ok, 2);
  done.close();
  expect_goroutines_back_to(before);
}

WEFT_RUNTIME_TEST(Patterns, ResultHoldsExactlyOneOfValueAndError) {
  wp::result<int> v = 7;
  EXPECT_TRUE(v);
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(v.err());
  EXPECT_EQ(*v, 7);
  EXPECT_EQ(v.value_or(1), 7);
  wp::result<int> e = weft::error{"boom"};
  EXPECT_FALSE(e);
  EXPECT_TRUE(e.err());
  EXPECT_EQ(e.value_or(1), 1);
  try {
    (void)e.value();
    ADD_FAILURE() << "value() of an error did not panic";
  } catch (const weft::panic_error& p) {
    EXPECT_NE(std::string(p.what()).find("boom"), std::string::npos);
  }
  EXPECT_THROW(wp::result<int>(weft::error{}), weft::panic_error);
  wp::result<std::string> s = "text";
  EXPECT_EQ(*s, "text");
  EXPECT_EQ(wp::result<int>{}.value(), 0);
  wp::result<std::unique_ptr<int>> m = std::make_unique<int>(4);
  auto p = std::move(m).value();
  EXPECT_EQ(*p, 4);
  // Over a channel, recv2 included.
  auto ch = weft::make_chan<wp::result<int>>(2);
  ch.send(5);
  ch.send(weft::error{"late"});
  ch.close();
  auto [a, ok_a] = ch.recv2();
  EXPECT_TRUE(ok_a && a.ok() && *a == 5);
  auto [b, ok_b] = ch.recv2();
  EXPECT_TRUE(ok_b && !b.ok());
  auto [c, ok_c] = ch.recv2();
  EXPECT_FALSE(ok_c);
}
