#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

namespace {

struct io_error : weft::error_base {
  std::string url;
  explicit io_error(std::string u) : url(std::move(u)) {}
  std::string message() const override { return "fetching " + url + " failed"; }
};

// The seeds' errgroup example, with a fake fetch.
weft::error fetch(const std::string& url) {
  weft::sleep(1ms);
  if (url.find("somestupidname") != std::string::npos) return io_error{url};
  return {};
}

}  // namespace

WEFT_RUNTIME_SUITE(Errgroup);

WEFT_RUNTIME_TEST(Errgroup, WaitsForAllAndSucceeds) {
  weft::errgroup g;
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i)
    g.go([&]() -> weft::error {
      weft::sleep(1ms);
      ran.fetch_add(1);
      return {};
    });
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(ran.load(), 20);
  EXPECT_FALSE(g.wait());  // again: nothing to wait for
}

WEFT_RUNTIME_TEST(Errgroup, SeedsFetchUrls) {
  weft::errgroup g;
  const std::vector<std::string> urls = {"http://www.golang.org/", "http://www.google.com/",
                                         "http://www.somestupidname.com/"};
  for (const auto& url : urls) g.go([url] { return fetch(url); });
  weft::error err = g.wait();
  ASSERT_TRUE(err);
  auto io = weft::as<io_error>(err);
  ASSERT_NE(io, nullptr);
  EXPECT_EQ(io->url, "http://www.somestupidname.com/");
}

WEFT_RUNTIME_TEST(Errgroup, ReturnsTheFirstError) {
  auto [g, ctx] = weft::errgroup::with_context(weft::background());
  const weft::error first{"first"};
  const weft::error second{"second"};
  g.go([&] { return first; });
  g.go([&, ctx = ctx]() -> weft::error {
    ctx.done().recv();  // after the first error was recorded (it cancels ctx)
    return second;
  });
  g.go([] {});  // void tasks succeed
  EXPECT_EQ(g.wait(), first);
}

WEFT_RUNTIME_TEST(Errgroup, WithContextCancelsOnFirstError) {
  auto [g, ctx] = weft::errgroup::with_context(weft::background());
  EXPECT_FALSE(ctx.err());
  const weft::error boom{"boom"};
  std::atomic<int> saw_cancel{0};
  for (int i = 0; i < 4; ++i)
    g.go([&, ctx = ctx]() -> weft::error {
      ctx.done().recv();  // the siblings stop when one fails
      saw_cancel.fetch_add(1);
      return ctx.err();
    });
  g.go([&]() -> weft::error { return boom; });
  EXPECT_EQ(g.wait(), boom);  // the first error, not the siblings' canceled
  EXPECT_EQ(saw_cancel.load(), 4);
  EXPECT_EQ(ctx.err(), weft::canceled);
}

WEFT_RUNTIME_TEST(Errgroup, WithContextCancelsWhenWaitReturns) {
  auto [parent, cancel_parent] = weft::with_cancel(weft::background());
  auto [g, ctx] = weft::errgroup::with_context(parent);
  g.go([] { return weft::error{}; });
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(ctx.err(), weft::canceled);
  EXPECT_FALSE(parent.err());  // only the derived context
  cancel_parent();
  // A parent's cancellation reaches the group's context.
  auto [g2, ctx2] = weft::errgroup::with_context(parent);
  EXPECT_EQ(ctx2.err(), weft::canceled);
  EXPECT_FALSE(g2.wait());
}

WEFT_RUNTIME_TEST(Errgroup, SetLimitBoundsActiveTasks) {
  weft::errgroup g;
  g.set_limit(2);
  std::atomic<int> active{0}, worst{0}, ran{0};
  for (int i = 0; i < 12; ++i)
    g.go([&]() -> weft::error {
      int now = active.fetch_add(1) + 1;
      int seen = worst.load();
      while (now > seen && !worst.compare_exchange_weak(seen, now)) {
      }
      weft::sleep(1ms);
      active.fetch_sub(1);
      ran.fetch_add(1);
      return {};
    });
  EXPECT_FALSE(g.wait());
  EXPECT_EQ(ran.load(), 12);
  EXPECT_LE(worst.load(), 2);
  g.set_limit(-1);  // no limit (allowed: nothing active)
  g.set_limit(3);
}

WEFT_RUNTIME_TEST(Errgroup, TryGoRespectsTheLimit) {
  weft::errgroup g;
  g.set_limit(1);
  auto release = weft::make_chan<weft::unit>();
  EXPECT_TRUE(g.try_go([release] {
    release.recv();
    return weft::error{};
  }));
  EXPECT_FALSE(g.try_go([] { return weft::error{}; }));  // full
  try {
    g.set_limit(4);
    ADD_FAILURE() << "no panic";
  } catch (const weft::panic_error& e) {
    EXPECT_STREQ(e.what(), "errgroup: modify limit while 1 goroutines in the group are still active");
  }
  release.close();
  EXPECT_FALSE(g.wait());
  EXPECT_TRUE(g.try_go([] { return weft::error{}; }));  // a slot again
  EXPECT_FALSE(g.wait());
  weft::errgroup unlimited;
  EXPECT_TRUE(unlimited.try_go([] {}));
  EXPECT_FALSE(unlimited.wait());
}

WEFT_RUNTIME_TEST(Errgroup, GoBlocksWhileFull) {
  weft::errgroup g;
  g.set_limit(1);
  auto release = weft::make_chan<weft::unit>();
  g.go([release] { release.recv(); });
  auto started_second = weft::make_chan<weft::unit>(1);
  weft::wait_group launcher;
  launcher.add(1);
  weft::go([&] {
    g.go([started_second] { started_second.send(weft::unit{}); });  // blocks until the first ends
    launcher.done();
  });
  weft::sleep(10ms);
  EXPECT_FALSE(started_second.try_recv().has_value());
  release.close();
  launcher.wait();
  EXPECT_FALSE(g.wait());
  EXPECT_TRUE(started_second.try_recv().has_value());
}

WEFT_RUNTIME_TEST(Errgroup, ExceptionIsRethrownByWait) {
  auto [g, ctx] = weft::errgroup::with_context(weft::background());
  std::atomic<bool> sibling_cancelled{false};
  g.go([ctx = ctx, &sibling_cancelled] {
    ctx.done().recv();
    sibling_cancelled = true;
    return weft::error{"after cancel"};
  });
  g.go([]() -> weft::error { throw std::out_of_range("index 7"); });
  try {
    (void)g.wait();
    ADD_FAILURE() << "wait did not rethrow";
  } catch (const std::out_of_range& e) {  // the original type
    EXPECT_STREQ(e.what(), "index 7");
  }
  EXPECT_TRUE(sibling_cancelled.load());  // the exception cancelled the group, as an error does
  EXPECT_EQ(ctx.err(), weft::canceled);
}

WEFT_RUNTIME_TEST(Errgroup, ExceptionWinsOverErrors) {
  weft::errgroup g;
  g.go([] { return weft::error{"plain error"}; });
  weft::sleep(2ms);
  g.go([]() -> weft::error { throw std::runtime_error("thrown"); });
  EXPECT_THROW((void)g.wait(), std::runtime_error);
}

WEFT_RUNTIME_TEST(Errgroup, TasksHappenBeforeWait) {
  weft::errgroup g;
  std::vector<int> results(16, 0);  // plain memory: TSan checks the edges
  for (int i = 0; i < 16; ++i)
    g.go([&results, i] {
      results[i] = i * i;
      return weft::error{};
    });
  ASSERT_FALSE(g.wait());
  for (int i = 0; i < 16; ++i) EXPECT_EQ(results[i], i * i);
}
