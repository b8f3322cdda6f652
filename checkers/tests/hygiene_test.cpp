// Between iterations every goroutine left alive is force-unwound (its
// destructors run), stacks go back to the pool and buffers are reused: many
// iterations keep memory flat.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>

#include <weft/weft.hpp>

#include "helpers.hpp"

using explore_test::opts;

namespace {

struct counted {
  // Atomic: goroutines destroy these unordered with one another (at teardown).
  static inline std::atomic<std::int64_t> alive = 0, destroyed = 0;
  counted() { ++alive; }
  counted(const counted&) { ++alive; }
  ~counted() {
    --alive;
    ++destroyed;
  }
};

// Leaks two goroutines every run: one blocked on a channel, one sleeping, each
// holding a counted object on its stack and one in its closure.
void leaky() {
  auto never = weft::make_chan<int>();
  weft::go([never, c = counted{}] {
    counted on_stack;
    never.recv();
  });
  weft::go([c = counted{}] {
    counted on_stack;
    weft::sleep(std::chrono::hours(1));
  });
  weft::check::shared<int> x{0};
  x += 1;
}

}  // namespace

TEST(Hygiene, LeakedGoroutinesAreUnwoundAndTheirDestructorsRun) {
  counted::alive = counted::destroyed = 0;
  auto o = opts(weft::check::random{}, 100);
  o.stop_on_first_failure = false;
  o.shrink = false;
  auto r = weft::check::explore(o, leaky);
  ASSERT_EQ(r.kind, weft::check::kind::leak) << r;
  EXPECT_EQ(r.failures, 100u);
  EXPECT_EQ(counted::alive, 0) << "objects on leaked goroutines' stacks and in their closures";
  EXPECT_GE(counted::destroyed, 400);
}

TEST(Hygiene, GoroutinesBlockedAtAFailureAreUnwoundToo) {
  counted::alive = 0;
  auto r = weft::check::explore(opts(weft::check::random{}, 10), [] {
    auto ch = weft::make_chan<int>();
    for (int i = 0; i < 3; ++i)
      weft::go([ch] {
        counted c;
        ch.recv();
      });
    counted mine;
    WEFT_ASSERT(false);
  });
  EXPECT_EQ(r.kind, weft::check::kind::assertion);
  EXPECT_EQ(counted::alive, 0);
}

TEST(Hygiene, AGoroutineBlockedAgainWhileUnwindingResumesWhenTheLockItWantsIsFreed) {
  // At teardown the younger goroutine is unwound first: its cond::wait must
  // relock the mutex (wait returns with it held, also on the way out), which
  // the older one holds while it sits in a receive. Unwinding the older one
  // releases the mutex, readies the younger, and a later pass lets it finish:
  // both sets of destructors run, nobody is abandoned.
  counted::alive = 0;
  auto r = weft::check::explore(opts(weft::check::random{}, 50), [] {
    auto mu = std::make_shared<weft::mutex>();
    auto cv = std::make_shared<weft::cond>(*mu);
    auto never = weft::make_chan<int>();
    auto waiting = weft::make_chan<int>();
    weft::go([mu, cv, waiting] {  // goroutine 2: waits on the cond
      counted c;
      std::unique_lock l(*mu);
      waiting.send(1);
      cv->wait();
    });
    waiting.recv();
    weft::go([mu, never] {  // goroutine 3: takes the mutex, then blocks
      counted c;
      std::lock_guard l(*mu);
      never.recv();
    });
    weft::yield();
    weft::yield();
  });
  EXPECT_EQ(r.kind, weft::check::kind::leak) << r;
  EXPECT_EQ(counted::alive, 0) << "a goroutine blocked again while unwinding was abandoned";
}

TEST(Hygiene, ManyIterationsKeepMemoryFlat) {
  // 100 000 runs of a program that leaks two goroutines each time; RSS after
  // a warm-up must not grow. Under sanitizers RSS measures their own
  // bookkeeping (TSan's per-fiber state, ASan's quarantine): there only the
  // unwinding is checked, on fewer runs.
  const std::uint64_t runs = explore_test::sanitized ? 2'000 : 100'000;
  auto o = opts(weft::check::random{}, explore_test::sanitized ? 200 : 2'000);
  o.stop_on_first_failure = false;
  o.shrink = false;
  auto warm = weft::check::explore(o, leaky);
  ASSERT_EQ(warm.failures, o.iterations);
  const std::size_t before = explore_test::rss_bytes();
  o.iterations = runs;
  counted::alive = 0;
  auto r = weft::check::explore(o, leaky);
  const std::size_t after = explore_test::rss_bytes();
  EXPECT_EQ(r.failures, runs);
  EXPECT_EQ(counted::alive, 0);
  const double grown_mib = (static_cast<double>(after) - static_cast<double>(before)) / (1 << 20);
  RecordProperty("rss_growth_kib", static_cast<int>(grown_mib * 1024));
  std::printf("RSS before %.1f MiB, after %llu runs %.1f MiB (%+.2f MiB)\n", static_cast<double>(before) / (1 << 20),
              static_cast<unsigned long long>(runs), static_cast<double>(after) / (1 << 20), grown_mib);
  if (!explore_test::sanitized) {
    EXPECT_LT(grown_mib, 4.0);
  }
}

TEST(Hygiene, GoroutineIdsRestartEveryRun) {
  std::set<std::uint64_t> ids;
  auto r = weft::check::explore(opts(weft::check::random{}, 50), [&] {
    auto ch = weft::make_chan<int>();
    weft::go([ch] { ch.send(1); });
    ch.recv();
    ids.insert(weft::num_goroutine());
  });
  ASSERT_TRUE(r.ok()) << r;
  // A report names goroutines 1, 2, ... whatever ran before.
  auto bad = weft::check::explore(opts(weft::check::random{}, 1), [] {
    weft::go([] { throw std::runtime_error("x"); });
  });
  ASSERT_EQ(bad.kind, weft::check::kind::panic);
  EXPECT_EQ(bad.goroutines.at(0).id, 2u);
}

TEST(Hygiene, NumGoroutineIsOneAtTheStartOfEveryRun) {
  std::set<std::size_t> seen;
  auto o = opts(weft::check::random{}, 50);
  o.stop_on_first_failure = false;
  o.shrink = false;
  weft::check::explore(o, [&] {
    seen.insert(weft::num_goroutine());
    leaky();
  });
  EXPECT_EQ(seen, (std::set<std::size_t>{1}));
}
