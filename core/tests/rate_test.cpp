#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;
namespace rate = weft::rate;

namespace {

// x/time/rate's own tests use explicit instants t0 + k*d: the bucket's
// arithmetic without any real waiting.
constexpr weft::duration d = 100ms;
const weft::time_point t0 = weft::time_point(1000s);
weft::time_point t(int k) { return t0 + k * d; }

struct allow_step {
  weft::time_point at;
  int n;
  bool ok;
};

void run_allows(rate::limiter& lim, const std::vector<allow_step>& steps) {
  for (std::size_t i = 0; i < steps.size(); ++i)
    EXPECT_EQ(lim.allow_n(steps[i].at, steps[i].n), steps[i].ok) << "step " << i;
}

// Reserve n at `at`; expect ok and time to act at `act` (to the nearest d).
rate::reservation reserve(rate::limiter& lim, weft::time_point at, int n, weft::time_point act, bool ok = true) {
  rate::reservation r = lim.reserve_n(at, n);
  EXPECT_EQ(r.ok(), ok);
  if (ok && r.ok()) {
    auto diff = r.time_to_act() - act;
    EXPECT_LT(std::chrono::abs(diff), d / 2) << "acts " << (r.time_to_act() - t0) / 1ms << "ms after t0, want "
                                              << (act - t0) / 1ms;
  }
  return r;
}

bool close_enough(rate::limit a, rate::limit b) { return std::abs(a / b - 1.0) < 1e-9; }

// The k-th event (0-based, times sorted) of a bucket (r per second, burst b),
// full at `start`, cannot come before start + (k + 1 - b) / r.
weft::time_point earliest(weft::time_point start, std::size_t k, rate::limit r, int b) {
  double s = (static_cast<double>(k) + 1 - b) / r;
  if (s < 0) s = 0;
  return start + std::chrono::duration_cast<weft::duration>(std::chrono::duration<double>(s));
}

// A user-defined limiter type for multi_limiter (the seeds' RateLimiter interface).
struct counting_limiter {
  std::atomic<int>* calls;
  rate::limit lim;
  weft::error wait(const weft::context&) {
    calls->fetch_add(1);
    return {};
  }
  rate::limit limit() const { return lim; }
};

}  // namespace

TEST(Rate, EveryAndPer) {
  EXPECT_EQ(rate::every(0s), rate::inf);
  EXPECT_EQ(rate::every(-1ns), rate::inf);
  EXPECT_TRUE(close_enough(rate::every(1ns), 1e9));
  EXPECT_TRUE(close_enough(rate::every(1ms), 1e3));
  EXPECT_TRUE(close_enough(rate::every(100ms), 10));
  EXPECT_TRUE(close_enough(rate::every(2500ms), 0.4));
  EXPECT_TRUE(close_enough(rate::every(10s), 0.1));
  // The seeds' Per.
  EXPECT_TRUE(close_enough(rate::per(2, 1s), 2));
  EXPECT_TRUE(close_enough(rate::per(10, 1min), 1.0 / 6));
  EXPECT_EQ(rate::per(0, 1s), 0);
  EXPECT_NE(rate::limit(10), rate::inf);
}

TEST(Rate, Burst1) {
  rate::limiter lim(10, 1);
  EXPECT_EQ(lim.limit(), 10);
  EXPECT_EQ(lim.burst(), 1);
  run_allows(lim, {{t(0), 1, true}, {t(0), 1, false}, {t(0), 1, false}, {t(1), 1, true}, {t(1), 1, false},
                   {t(1), 1, false}, {t(2), 2, false}, {t(2), 1, true}, {t(2), 1, false}});
}

TEST(Rate, Burst3) {
  rate::limiter lim(10, 3);
  run_allows(lim, {{t(0), 2, true}, {t(0), 2, false}, {t(0), 1, true}, {t(0), 1, false}, {t(1), 4, false},
                   {t(2), 1, true}, {t(3), 1, true}, {t(4), 1, true}, {t(4), 1, true}, {t(4), 1, false},
                   {t(4), 1, false}, {t(9), 3, true}, {t(9), 0, true}});
}

TEST(Rate, TimeJumpsBackwards) {
  rate::limiter lim(10, 3);
  run_allows(lim, {{t(1), 1, true}, {t(0), 1, true}, {t(0), 1, true}, {t(0), 1, false}, {t(0), 1, false},
                   {t(1), 1, true}, {t(1), 1, false}, {t(1), 1, false}, {t(2), 1, true}, {t(2), 1, false},
                   {t(2), 1, false}});
}

TEST(Rate, NoTruncationErrors) { EXPECT_TRUE(rate::limiter(0.7692307692307693, 1).allow()); }

TEST(Rate, ZeroLimitAllowsTheBurstOnly) {
  rate::limiter lim(0, 1);
  EXPECT_TRUE(lim.allow());
  EXPECT_FALSE(lim.allow());
  rate::limiter none;  // Go's zero Limiter
  EXPECT_FALSE(none.allow());
}

TEST(Rate, InfAllowsEverything) {
  rate::limiter lim(rate::inf, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(lim.allow_n(t(0), 1000));
  EXPECT_EQ(lim.reserve_n(t(0), 5).delay_from(t(0)), 0s);
}

TEST(Rate, Reserve) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 2, t(0));
  reserve(lim, t(0), 2, t(2));
  reserve(lim, t(3), 2, t(4));
}

TEST(Rate, Mix) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 3, t(1), false);  // n > burst
  reserve(lim, t(0), 2, t(0));
  run_allows(lim, {{t(1), 2, false}});
  reserve(lim, t(1), 2, t(2));
  run_allows(lim, {{t(1), 1, false}});
  run_allows(lim, {{t(3), 1, true}});
}

TEST(Rate, ReservationDelays) {
  rate::limiter lim(10, 1);
  auto a = lim.reserve_n(t(0), 1);
  auto b = lim.reserve_n(t(0), 1);
  EXPECT_EQ(a.delay_from(t(0)), 0s);
  EXPECT_EQ(b.delay_from(t(0)), d);
  EXPECT_EQ(b.delay_from(t(5)), 0s);
  auto bad = lim.reserve_n(t(0), 2);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.delay_from(t(0)), rate::inf_duration);
  rate::reservation none;
  EXPECT_FALSE(none.ok());
  none.cancel();  // nothing to give back
}

TEST(Rate, CancelInvalid) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 2, t(0));
  auto r = reserve(lim, t(0), 3, t(3), false);
  r.cancel_at(t(0));
  reserve(lim, t(0), 2, t(2));
}

TEST(Rate, CancelLast) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 2, t(0));
  auto r = reserve(lim, t(0), 2, t(2));
  r.cancel_at(t(1));  // 2 tokens back
  reserve(lim, t(1), 2, t(2));
}

TEST(Rate, CancelTooLate) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 2, t(0));
  auto r = reserve(lim, t(0), 2, t(2));
  r.cancel_at(t(3));  // after its time to act: nothing back
  reserve(lim, t(3), 2, t(4));
}

TEST(Rate, Cancel0Tokens) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 2, t(0));
  auto r = reserve(lim, t(0), 1, t(1));
  reserve(lim, t(0), 1, t(2));
  r.cancel_at(t(0));  // reserved after it: 0 back
  reserve(lim, t(0), 1, t(3));
}

TEST(Rate, Cancel1Token) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 2, t(0));
  auto r = reserve(lim, t(0), 2, t(2));
  reserve(lim, t(0), 1, t(3));
  r.cancel_at(t(2));
  reserve(lim, t(2), 2, t(4));
}

TEST(Rate, CancelMulti) {
  rate::limiter lim(10, 4);
  reserve(lim, t(0), 4, t(0));
  auto a = reserve(lim, t(0), 3, t(3));
  reserve(lim, t(0), 1, t(4));
  auto c = reserve(lim, t(0), 1, t(5));
  c.cancel_at(t(1));  // 1 back
  a.cancel_at(t(1));  // 2 back, as if c was never reserved
  reserve(lim, t(1), 3, t(5));
}

TEST(Rate, CancelTwiceCountsOnce) {
  rate::limiter lim(10, 2);
  reserve(lim, t(0), 2, t(0));
  auto r = reserve(lim, t(0), 2, t(2));
  r.cancel_at(t(1));
  r.cancel_at(t(1));  // no second refund
  reserve(lim, t(1), 2, t(2));
  reserve(lim, t(1), 2, t(4));
}

TEST(Rate, ReserveJumpBack) {
  rate::limiter lim(10, 2);
  reserve(lim, t(1), 2, t(1));
  reserve(lim, t(0), 1, t(1));
  reserve(lim, t(2), 2, t(3));
}

TEST(Rate, ReserveJumpBackCancel) {
  rate::limiter lim(10, 2);
  reserve(lim, t(1), 2, t(1));
  auto r = reserve(lim, t(1), 2, t(3));
  reserve(lim, t(1), 1, t(4));
  r.cancel_at(t(0));
  reserve(lim, t(1), 2, t(4));
}

TEST(Rate, SetLimitAndBurst) {
  {
    rate::limiter lim(5, 2);
    reserve(lim, t(0), 2, t(0));
    reserve(lim, t(0), 2, t(4));
    lim.set_limit_at(t(2), 10);
    EXPECT_EQ(lim.limit(), 10);
    reserve(lim, t(2), 1, t(4));
  }
  {
    rate::limiter lim(5, 2);
    reserve(lim, t(0), 2, t(0));
    reserve(lim, t(0), 2, t(4));
    lim.set_burst_at(t(3), 4);
    EXPECT_EQ(lim.burst(), 4);
    reserve(lim, t(0), 4, t(9));
  }
  {
    rate::limiter lim(5, 2);
    reserve(lim, t(0), 2, t(0));
    auto r = reserve(lim, t(0), 2, t(4));
    lim.set_limit_at(t(2), 10);
    r.cancel_at(t(2));
    reserve(lim, t(2), 2, t(3));
  }
}

TEST(Rate, TokensAt) {
  rate::limiter lim(10, 3);
  EXPECT_DOUBLE_EQ(lim.tokens_at(t(0)), 3);  // initially full
  lim.allow_n(t(0), 3);
  EXPECT_NEAR(lim.tokens_at(t(1)), 1, 1e-9);
  EXPECT_NEAR(lim.tokens_at(t(9)), 3, 1e-9);
  lim.reserve_n(t(0), 2);
  EXPECT_NEAR(lim.tokens_at(t(0)), -2, 1e-9);  // a debt while reservations are pending
}

TEST(Rate, CopiesShareTheBucket) {
  rate::limiter a(10, 1);
  rate::limiter b = a;
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a.allow_n(t(0), 1));
  EXPECT_FALSE(b.allow_n(t(0), 1));
  EXPECT_FALSE(a == rate::limiter(10, 1));
}

WEFT_RUNTIME_SUITE(RateRt);

WEFT_RUNTIME_TEST(RateRt, WaitSimple) {
  rate::limiter lim(10, 3);
  auto [cancelled, cancel] = weft::with_cancel(weft::background());
  cancel();
  EXPECT_EQ(lim.wait_n(cancelled, 1), weft::canceled);
  weft::error e = lim.wait_n(weft::background(), 4);
  ASSERT_TRUE(e);
  EXPECT_EQ(e.message(), "rate: Wait(n=4) exceeds limiter's burst 3");
  auto we = weft::as<rate::wait_error>(e);
  ASSERT_NE(we, nullptr);
  EXPECT_EQ(we->why, rate::wait_error::reason::exceeds_burst);
  const auto start = weft::now();
  EXPECT_FALSE(lim.wait_n(weft::background(), 2));  // act now
  EXPECT_FALSE(lim.wait_n(weft::background(), 3));  // 1 token left: 2 more take 200ms
  EXPECT_GE(weft::now() - start, 150ms);
}

WEFT_RUNTIME_TEST(RateRt, WaitCancelGivesTokensBack) {
  rate::limiter lim(10, 3);
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  EXPECT_FALSE(lim.wait_n(ctx, 2));  // 1 token left
  // A timer channel rather than sleep: its timer is armed before anyone
  // blocks, so in virtual time it fires (at 100ms) before the wait's (200ms).
  weft::go([cancel = cancel, tick = weft::after(d)] {
    tick.recv();
    cancel();
  });
  const auto start = weft::now();
  EXPECT_EQ(lim.wait_n(ctx, 3), weft::canceled);  // would have waited 200ms
  EXPECT_GE(weft::now() - start, d / 2);
  // The 3 tokens came back: 2 are available now (1 left + 1 refilled).
  const auto again = weft::now();
  EXPECT_FALSE(lim.wait_n(weft::background(), 2));
  EXPECT_LT(weft::now() - again, 1s);  // generous: "now", not after the cancelled reservation
}

WEFT_RUNTIME_TEST(RateRt, WaitFailsWhenTheDeadlineIsTooSoon) {
  rate::limiter lim(10, 3);
  auto [ctx, cancel] = weft::with_timeout(weft::background(), d);
  EXPECT_FALSE(lim.wait_n(ctx, 2));
  const auto start = weft::now();
  weft::error e = lim.wait_n(ctx, 3);  // needs 200ms, the deadline is in < 100ms
  EXPECT_LT(weft::now() - start, d);  // failed at once
  EXPECT_EQ(e.message(), "rate: Wait(n=3) would exceed context deadline");
  ASSERT_TRUE(weft::as<rate::wait_error>(e));
  EXPECT_EQ(weft::as<rate::wait_error>(e)->why, rate::wait_error::reason::would_exceed_deadline);
  cancel();
}

WEFT_RUNTIME_TEST(RateRt, WaitInfIgnoresBurst) {
  rate::limiter lim(rate::inf, 0);
  EXPECT_FALSE(lim.wait_n(weft::background(), 3));
  EXPECT_FALSE(lim.wait());
}

WEFT_RUNTIME_TEST(RateRt, SimultaneousAllows) {
  rate::limiter lim(0.001, 5);  // refills once in 1000 s: only the burst
  std::atomic<int> ok{0};
  weft::wait_group wg;
  for (int i = 0; i < 15; ++i) {
    wg.add(1);
    weft::go([&] {
      if (lim.allow()) ok.fetch_add(1);
      wg.done();
    });
  }
  wg.wait();
  EXPECT_EQ(ok.load(), 5);
}

// Denials are decided without the lock (on a snapshot of the bucket), grants
// under it: hammered at one instant, exactly the burst is granted.
WEFT_RUNTIME_TEST(RateRt, HammeredAtOneInstantGrantsTheBurst) {
  rate::limiter lim(rate::every(1s), 100);
  const weft::time_point t = weft::now();
  std::atomic<int> ok{0};
  weft::wait_group wg;
  for (int i = 0; i < 4; ++i) {
    wg.add(1);
    weft::go([&] {
      for (int k = 0; k < 1000; ++k) {
        if (lim.allow_n(t, 1)) ok.fetch_add(1);
        if (k % 64 == 0) weft::yield();
      }
      wg.done();
    });
  }
  wg.wait();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_LT(lim.tokens_at(t), 1.0);
}

// The seeds' API connection: one limiter shared by ReadFile and ResolveAddress.
// The seeds allow 1 call a second; here 1 every 5 ms, so the test is short.
WEFT_RUNTIME_TEST(RateRt, SeedsApiConnection) {
  struct api_connection {
    rate::limiter rate_limiter{rate::every(5ms), 1};
    weft::error read_file(const weft::context& ctx) { return rate_limiter.wait(ctx); }
    weft::error resolve_address(const weft::context& ctx) { return rate_limiter.wait(ctx); }
  } api;
  weft::mutex mu;
  std::vector<weft::time_point> done_at;
  weft::wait_group wg;
  const auto start = weft::now();
  for (int i = 0; i < 20; ++i) {
    wg.add(1);
    weft::go([&, i] {
      weft::error err = i % 2 == 0 ? api.read_file(weft::background()) : api.resolve_address(weft::background());
      EXPECT_FALSE(err) << err;
      auto at = weft::now();
      {
        std::lock_guard l(mu);
        done_at.push_back(at);
      }
      wg.done();  // after unlocking: main may return (and mu die) once the last done() is in
    });
  }
  wg.wait();
  std::sort(done_at.begin(), done_at.end());
  ASSERT_EQ(done_at.size(), 20u);
  for (std::size_t k = 0; k < done_at.size(); ++k)
    EXPECT_GE(done_at[k] + 1ms, earliest(start, k, rate::every(5ms), 1)) << "call " << k << " came too early";
  EXPECT_LT(done_at.back() - start, 20 * 5ms + 5s);  // generous: the machines are noisy
}

// The seeds' MultiLimiter: 2 per second with bursts of 1, and 10 per minute
// with bursts of 10 (here time runs 100 times faster: 2 per 10 ms, 10 per
// 600 ms). The first 10 calls go at the per-second pace, the rest at the
// per-minute pace.
WEFT_RUNTIME_TEST(RateRt, SeedsMultiLimiter) {
  rate::limiter second_limit(rate::per(2, 10ms), 1);
  rate::limiter minute_limit(rate::per(10, 600ms), 10);
  rate::multi_limiter limiter(second_limit, minute_limit);
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_TRUE(close_enough(limiter.limit(), rate::per(10, 600ms)));  // the tightest
  weft::mutex mu;
  std::vector<weft::time_point> done_at;
  weft::wait_group wg;
  const int calls = 13;
  const auto start = weft::now();
  for (int i = 0; i < calls; ++i) {
    wg.add(1);
    weft::go([&] {
      EXPECT_FALSE(limiter.wait(weft::background()));
      auto at = weft::now();
      {
        std::lock_guard l(mu);
        done_at.push_back(at);
      }
      wg.done();  // after unlocking: main may return (and mu die) once the last done() is in
    });
  }
  wg.wait();
  std::sort(done_at.begin(), done_at.end());
  for (std::size_t k = 0; k < done_at.size(); ++k) {
    EXPECT_GE(done_at[k] + 1ms, earliest(start, k, rate::per(2, 10ms), 1)) << k;
    EXPECT_GE(done_at[k] + 1ms, earliest(start, k, rate::per(10, 600ms), 10)) << k;
  }
  // Calls 11..13 waited for the per-minute bucket: at least 3 refills.
  EXPECT_GE(done_at.back() - start, 3 * 60ms - 1ms);
  EXPECT_LT(done_at.back() - start, 5s);
}

// The seeds' API with separate limits per resource, combined per call; nested
// multi_limiters (the RateLimiter interface) and any type with wait/limit.
WEFT_RUNTIME_TEST(RateRt, SeedsPerResourceLimits) {
  struct api_connection {
    rate::multi_limiter api_limit{rate::limiter(rate::per(2, 10ms), 2), rate::limiter(rate::per(10, 600ms), 10)};
    rate::multi_limiter disk_limit{rate::limiter(rate::limit(100), 1)};
    rate::multi_limiter network_limit{rate::limiter(rate::per(3, 10ms), 3)};
    weft::error read_file(const weft::context& ctx) { return rate::multi_limiter(api_limit, disk_limit).wait(ctx); }
    weft::error resolve_address(const weft::context& ctx) {
      return rate::multi_limiter(api_limit, network_limit).wait(ctx);
    }
  } api;
  EXPECT_TRUE(close_enough(rate::multi_limiter(api.api_limit, api.disk_limit).limit(), rate::per(10, 600ms)));
  weft::mutex mu;
  std::vector<weft::time_point> all, reads;
  weft::wait_group wg;
  const auto start = weft::now();
  for (int i = 0; i < 12; ++i) {
    wg.add(1);
    weft::go([&, i] {
      const bool read = i % 2 == 0;
      EXPECT_FALSE(read ? api.read_file(weft::background()) : api.resolve_address(weft::background()));
      auto at = weft::now();
      {
        std::lock_guard l(mu);
        all.push_back(at);
        if (read) reads.push_back(at);
      }
      wg.done();
    });
  }
  wg.wait();
  std::sort(all.begin(), all.end());
  std::sort(reads.begin(), reads.end());
  for (std::size_t k = 0; k < all.size(); ++k) {
    EXPECT_GE(all[k] + 1ms, earliest(start, k, rate::per(2, 10ms), 2)) << k;
    EXPECT_GE(all[k] + 1ms, earliest(start, k, rate::per(10, 600ms), 10)) << k;
  }
  for (std::size_t k = 0; k < reads.size(); ++k) EXPECT_GE(reads[k] + 1ms, earliest(start, k, 100, 1)) << k;

  // Any rate_limiter type, by value, pointer or shared_ptr.
  std::atomic<int> calls{0};
  counting_limiter a{&calls, 5};
  auto b = std::make_shared<counting_limiter>(counting_limiter{&calls, 3});
  rate::multi_limiter m(counting_limiter{&calls, 7}, &a, b, rate::limiter(rate::inf, 0));
  EXPECT_EQ(m.limit(), 3);
  EXPECT_FALSE(m.wait_n(weft::background(), 2));
  EXPECT_EQ(calls.load(), 6);
  rate::multi_limiter empty;
  EXPECT_EQ(empty.limit(), rate::inf);
  EXPECT_FALSE(empty.wait());
}

WEFT_RUNTIME_TEST(RateRt, MultiLimiterStopsAtTheFirstError) {
  rate::limiter tight(rate::every(1h), 1);
  rate::limiter loose(rate::every(1ms), 1);
  rate::multi_limiter m(loose, tight);
  EXPECT_FALSE(m.wait());  // both had a token
  auto [ctx, cancel] = weft::with_timeout(weft::background(), 20ms);
  weft::error e = m.wait(ctx);  // the tight one would take an hour
  EXPECT_EQ(e.message(), "rate: Wait(n=1) would exceed context deadline");
  cancel();
  auto [c2, cancel2] = weft::with_cancel(weft::background());
  weft::go([cancel2 = cancel2, tick = weft::after(10ms)] {
    tick.recv();
    cancel2();
  });
  EXPECT_EQ(m.wait(c2), weft::canceled);
}
