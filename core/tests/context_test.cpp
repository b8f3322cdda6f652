#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

namespace {

bool is_closed(const weft::recv_chan<weft::unit>& done) {
  // A closed signal channel answers at once with nothing.
  bool closed = false;
  weft::select(weft::on_recv(done, [&](std::optional<weft::unit> v) { closed = !v.has_value(); }),
               weft::on_default());
  return closed;
}

// The seeds' context example: greeting has a short timeout; locale takes
// "a minute"; greeting fails with deadline exceeded and cancels the shared
// context, which makes farewell fail with canceled.
struct locale_result {
  std::string locale;
  weft::error err;
};

locale_result locale(const weft::context& ctx) {
  locale_result r;
  weft::select(weft::on_recv(ctx.done(), [&](auto) { r.err = ctx.err(); }),
               weft::on_recv(weft::after(1min), [&](auto) { r.locale = "EN/US"; }));
  return r;
}

std::pair<std::string, weft::error> greeting(const weft::context& parent) {
  auto [ctx, cancel] = weft::with_timeout(parent, 50ms);
  auto r = locale(ctx);
  cancel();
  if (r.err) return {"", r.err};
  if (r.locale == "EN/US") return {"hello", {}};
  return {"", weft::error{"unsupported locale"}};
}

std::pair<std::string, weft::error> farewell(const weft::context& ctx) {
  auto r = locale(ctx);
  if (r.err) return {"", r.err};
  if (r.locale == "EN/US") return {"goodbye", {}};
  return {"", weft::error{"unsupported locale"}};
}

}  // namespace

WEFT_RUNTIME_SUITE(Context);

WEFT_RUNTIME_TEST(Context, BackgroundAndTodoNeverEnd) {
  for (const weft::context& ctx : {weft::background(), weft::todo()}) {
    EXPECT_TRUE(ctx);
    EXPECT_TRUE(ctx.done().is_nil());
    EXPECT_FALSE(ctx.err());
    EXPECT_FALSE(ctx.deadline().has_value());
    EXPECT_FALSE(ctx.value("anything").has_value());
  }
  EXPECT_EQ(weft::background(), weft::background());
  EXPECT_FALSE(weft::background() == weft::todo());
  // A null context answers like background.
  weft::context null;
  EXPECT_FALSE(null);
  EXPECT_TRUE(null.done().is_nil());
  EXPECT_FALSE(null.err());
}

WEFT_RUNTIME_TEST(Context, CancelClosesDoneOnce) {
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  ASSERT_FALSE(ctx.done().is_nil());
  EXPECT_FALSE(is_closed(ctx.done()));
  EXPECT_FALSE(ctx.err());
  EXPECT_FALSE(ctx.deadline().has_value());
  cancel();
  EXPECT_TRUE(is_closed(ctx.done()));
  EXPECT_FALSE(ctx.done().recv().has_value());
  EXPECT_EQ(ctx.err(), weft::canceled);
  EXPECT_TRUE(weft::is(ctx.err(), weft::canceled));
  cancel();  // idempotent
  cancel();
  EXPECT_EQ(ctx.err(), weft::canceled);
}

WEFT_RUNTIME_TEST(Context, CancelPropagatesDownNeverUp) {
  auto [root, cancel_root] = weft::with_cancel(weft::background());
  auto [child, cancel_child] = weft::with_cancel(root);
  weft::context valued = weft::with_value(child, "k", 1);
  auto [grand, cancel_grand] = weft::with_cancel(valued);
  auto [sibling, cancel_sibling] = weft::with_timeout(root, 1h);
  EXPECT_EQ(valued.done(), child.done());  // a value node shares its canceller's done

  cancel_child();
  EXPECT_EQ(child.err(), weft::canceled);
  EXPECT_EQ(valued.err(), weft::canceled);
  EXPECT_EQ(grand.err(), weft::canceled);
  EXPECT_TRUE(is_closed(grand.done()));
  EXPECT_FALSE(root.err());  // never up
  EXPECT_FALSE(sibling.err());
  EXPECT_FALSE(is_closed(root.done()));

  cancel_root();
  EXPECT_EQ(root.err(), weft::canceled);
  EXPECT_EQ(sibling.err(), weft::canceled);  // the parent's error, not deadline_exceeded
  EXPECT_TRUE(is_closed(sibling.done()));
  cancel_grand();
  cancel_sibling();
  EXPECT_EQ(grand.err(), weft::canceled);
}

WEFT_RUNTIME_TEST(Context, ChildOfCancelledParentIsBornCancelled) {
  auto [parent, cancel] = weft::with_cancel(weft::background());
  cancel();
  auto [child, cancel_child] = weft::with_cancel(parent);
  EXPECT_EQ(child.err(), weft::canceled);
  EXPECT_TRUE(is_closed(child.done()));
  auto [timed, cancel_timed] = weft::with_timeout(parent, 1h);
  EXPECT_EQ(timed.err(), weft::canceled);
  cancel_child();
  cancel_timed();
}

WEFT_RUNTIME_TEST(Context, CancelledChildrenDetachFromParent) {
  auto [parent, cancel_parent] = weft::with_cancel(weft::background());
  for (int i = 0; i < 1000; ++i) {
    auto [c, cancel] = weft::with_cancel(parent);
    auto [t, cancel_t] = weft::with_timeout(c, 1h);
    EXPECT_EQ(weft::detail::context_child_count(parent), 1u);
    cancel();
    EXPECT_EQ(t.err(), weft::canceled);
    cancel_t();
  }
  EXPECT_EQ(weft::detail::context_child_count(parent), 0u);
  {
    std::vector<weft::context> kept;
    for (int i = 0; i < 10; ++i) kept.push_back(weft::with_cancel(parent).ctx);  // never cancelled
    EXPECT_EQ(weft::detail::context_child_count(parent), 10u);
  }
  // Dropped without cancel: gone from the parent too.
  EXPECT_EQ(weft::detail::context_child_count(parent), 0u);
  auto [c, cancel] = weft::with_cancel(parent);
  cancel_parent();  // cancelling the parent detaches its children as well
  EXPECT_EQ(weft::detail::context_child_count(parent), 0u);
  EXPECT_EQ(c.err(), weft::canceled);
  cancel();
}

WEFT_RUNTIME_TEST(Context, EveryWaiterWakes) {
  // No structured binding: the lambdas below capture these (clang 14 cannot).
  auto made = weft::with_cancel(weft::background());
  auto& ctx = made.ctx;
  auto& cancel = made.cancel;
  const int n = 16;
  weft::wait_group wg;
  std::atomic<int> woke{0};
  for (int i = 0; i < n; ++i) {
    auto [c, cc] = weft::with_cancel(ctx);  // some wait on descendants
    wg.add(1);
    weft::go([&, c = (i % 2 == 0 ? ctx : c), cc = cc] {
      c.done().recv();
      if (c.err()) woke.fetch_add(1);
      cc();
      wg.done();
    });
  }
  // Several goroutines race to cancel; exactly-once close means no panic.
  for (int i = 0; i < 4; ++i) {
    wg.add(1);
    weft::go([&] {
      cancel();
      wg.done();
    });
  }
  wg.wait();
  EXPECT_EQ(woke.load(), n);
}

WEFT_RUNTIME_TEST(Context, CancelHappensBeforeWakeAndErr) {
  // A plain write before cancel is visible after done() or err() reports it
  // (TSan checks the edges).
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  int payload = 0;
  weft::wait_group wg;
  wg.add(2);
  weft::go([&, ctx = ctx] {
    ctx.done().recv();
    EXPECT_EQ(payload, 42);
    wg.done();
  });
  weft::go([&, ctx = ctx] {
    while (!ctx.err()) weft::yield();
    EXPECT_EQ(payload, 42);
    wg.done();
  });
  payload = 42;
  cancel();
  wg.wait();
}

WEFT_RUNTIME_TEST(Context, TimeoutCancelsWithDeadlineExceeded) {
  const auto start = weft::now();
  auto [ctx, cancel] = weft::with_timeout(weft::background(), 30ms);
  ASSERT_TRUE(ctx.deadline().has_value());
  EXPECT_GE(*ctx.deadline(), start + 30ms);
  EXPECT_LE(*ctx.deadline(), weft::now() + 30ms);
  EXPECT_FALSE(ctx.err());
  ctx.done().recv();
  EXPECT_GE(weft::now(), start + 30ms);  // never early
  EXPECT_EQ(ctx.err(), weft::deadline_exceeded);
  cancel();  // after expiry: still fine, error unchanged
  EXPECT_EQ(ctx.err(), weft::deadline_exceeded);
}

WEFT_RUNTIME_TEST(Context, DeadlineIsInheritedWhenEarlier) {
  auto [parent, cancel_parent] = weft::with_timeout(weft::background(), 30ms);
  auto [child, cancel_child] = weft::with_timeout(parent, 1h);
  EXPECT_EQ(child.deadline(), parent.deadline());
  auto [sooner, cancel_sooner] = weft::with_timeout(parent, 1ms);
  EXPECT_LT(*sooner.deadline(), *parent.deadline());
  sooner.done().recv();
  EXPECT_EQ(sooner.err(), weft::deadline_exceeded);
  EXPECT_FALSE(parent.err());
  child.done().recv();
  EXPECT_EQ(child.err(), weft::deadline_exceeded);  // the parent's deadline, propagated
  EXPECT_EQ(parent.err(), weft::deadline_exceeded);
  weft::context v = weft::with_value(child, "k", 1);
  EXPECT_EQ(v.deadline(), parent.deadline());
  cancel_parent();
  cancel_child();
  cancel_sooner();
}

WEFT_RUNTIME_TEST(Context, PastDeadlineIsAlreadyExceeded) {
  auto [ctx, cancel] = weft::with_deadline(weft::background(), weft::now() - 1s);
  EXPECT_EQ(ctx.err(), weft::deadline_exceeded);
  EXPECT_TRUE(is_closed(ctx.done()));
  auto [z, cancel_z] = weft::with_timeout(weft::background(), 0s);
  EXPECT_EQ(z.err(), weft::deadline_exceeded);
  cancel();
  cancel_z();
}

WEFT_RUNTIME_TEST(Context, CancelBeforeDeadlineStopsTheTimer) {
  auto [ctx, cancel] = weft::with_timeout(weft::background(), 20ms);
  cancel();
  EXPECT_EQ(ctx.err(), weft::canceled);
  weft::sleep(40ms);
  EXPECT_EQ(ctx.err(), weft::canceled);  // the deadline does not overwrite it
  EXPECT_EQ(weft::num_goroutine(), 1u);  // no timer goroutine was started
}

WEFT_RUNTIME_TEST(Context, DroppedContextStillExpires) {
  // Nobody keeps the context or its cancel func; its timer does, as in Go.
  weft::recv_chan<weft::unit> done = weft::with_timeout(weft::background(), 10ms).ctx.done();
  EXPECT_FALSE(done.recv().has_value());
}

WEFT_RUNTIME_TEST(Context, ValuesComeFromTheNearestAncestor) {
  weft::context a = weft::with_value(weft::background(), "user", std::string("jane"));
  weft::context b = weft::with_value(a, "token", std::string("abc123"));
  auto [c, cancel] = weft::with_cancel(b);
  weft::context d = weft::with_value(c, "user", std::string("joe"));  // shadows
  EXPECT_EQ(std::any_cast<std::string>(c.value("user")), "jane");
  EXPECT_EQ(std::any_cast<std::string>(c.value("token")), "abc123");
  EXPECT_EQ(std::any_cast<std::string>(d.value("user")), "joe");
  EXPECT_EQ(std::any_cast<std::string>(a.value("user")), "jane");
  EXPECT_FALSE(a.value("token").has_value());
  EXPECT_FALSE(d.value("missing").has_value());
  EXPECT_EQ(d.value_as<std::string>("token"), "abc123");
  EXPECT_EQ(d.value_as<int>("token"), std::nullopt);  // wrong type
  EXPECT_EQ(d.value_as<int>("missing"), std::nullopt);
  weft::context n = weft::with_value(weft::background(), "n", 7);
  EXPECT_EQ(n.value_as<int>("n"), 7);
  cancel();
  EXPECT_EQ(std::any_cast<std::string>(d.value("user")), "joe");  // values outlive cancellation
  EXPECT_EQ(d.err(), weft::canceled);
}

WEFT_RUNTIME_TEST(Context, NilParentPanics) {
  weft::context null;
  auto expect_panic = [](auto fn) {
    try {
      fn();
      ADD_FAILURE() << "no panic";
    } catch (const weft::panic_error& e) {
      EXPECT_STREQ(e.what(), "cannot create context from nil parent");
    }
  };
  expect_panic([&] { weft::with_cancel(null); });
  expect_panic([&] { weft::with_timeout(null, 1s); });
  expect_panic([&] { weft::with_deadline(null, weft::now() + 1s); });
  expect_panic([&] { weft::with_value(null, "k", 1); });
}

WEFT_RUNTIME_TEST(Context, SeedsGreetingAndFarewell) {
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  weft::wait_group wg;
  std::pair<std::string, weft::error> g, f;
  wg.add(2);
  weft::go([&, ctx = ctx, cancel = cancel] {
    g = greeting(ctx);
    if (g.second) cancel();  // cancels farewell
    wg.done();
  });
  weft::go([&, ctx = ctx] {
    f = farewell(ctx);
    wg.done();
  });
  wg.wait();
  cancel();
  EXPECT_EQ(g.second, weft::deadline_exceeded) << g.second;
  EXPECT_EQ(g.second.message(), "context deadline exceeded");
  EXPECT_EQ(f.second, weft::canceled) << f.second;
  EXPECT_EQ(f.second.message(), "context canceled");
}

WEFT_RUNTIME_TEST(Context, SeedsGeneratorStopsOnCancel) {
  auto gen = [](weft::context ctx) {
    auto dst = weft::make_chan<int>();
    weft::go([ctx, dst] {
      int n = 1;
      for (;;) {
        bool stop = false;
        weft::select(weft::on_recv(ctx.done(), [&](auto) { stop = true; }), weft::on_send(dst, n, [&] { ++n; }));
        if (stop) return;  // returning not to leak the goroutine
      }
    });
    return dst;
  };
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  std::vector<int> got;
  for (int n : gen(ctx)) {
    got.push_back(n);
    if (n == 5) break;
  }
  cancel();
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5}));
}

WEFT_RUNTIME_TEST(Context, SeedsShortDeadline) {
  auto [ctx, cancel] = weft::with_deadline(weft::background(), weft::now() + 1ms);
  std::string printed;
  weft::select(weft::on_recv(weft::after(10s), [&](auto) { printed = "overslept"; }),
               weft::on_recv(ctx.done(), [&, ctx = ctx](auto) { printed = ctx.err().message(); }));
  cancel();
  EXPECT_EQ(printed, "context deadline exceeded");
}

WEFT_RUNTIME_TEST(Context, SeedsProcessRequestValues) {
  auto handle = [](const weft::context& ctx) {
    return "handling response for " + *ctx.value_as<std::string>("userID") + " (" +
           *ctx.value_as<std::string>("authToken") + ")";
  };
  weft::context ctx = weft::with_value(weft::background(), "userID", std::string("jane"));
  ctx = weft::with_value(ctx, "authToken", std::string("abc123"));
  EXPECT_EQ(handle(ctx), "handling response for jane (abc123)");
}

TEST(ContextOutsideRun, CancelAndPastDeadlinesNeedNoRuntime) {
  auto [ctx, cancel] = weft::with_cancel(weft::background());
  weft::context v = weft::with_value(ctx, "k", 1);
  cancel();
  EXPECT_EQ(v.err(), weft::canceled);
  auto [late, cancel_late] = weft::with_deadline(weft::background(), weft::now() - 1s);
  EXPECT_EQ(late.err(), weft::deadline_exceeded);
  cancel_late();
  // A future deadline needs a timer, hence a running scheduler.
  EXPECT_THROW(weft::with_timeout(weft::background(), 1h), weft::panic_error);
}
