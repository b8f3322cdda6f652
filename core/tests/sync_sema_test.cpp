// The sync primitives' parking queue (core/src/sync/sema.hpp): a release with
// a waiter queued hands it the token or lets it compete; tokens nobody waits
// for go to the count; a root shared with another address's waiters does not
// swallow them. Each test waits, through the root, until its waiters are
// queued, so it holds under every scheduler and interleaving.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"
#include "sync/sema.hpp"

namespace {

using namespace weft::detail;

// How many goroutines are queued on addr (read under its root's lock).
int queued_on(std::atomic<std::uint32_t>* addr) {
  sema_root& r = sema_root_for(addr);
  runtime_section rs;
  lock_guard l(r.lock);
  int n = 0;
  for (sync_waiter* w = r.head(addr); w != nullptr; w = w->next) ++n;
  return n;
}

void wait_until_queued(std::atomic<std::uint32_t>* addr, int n) {
  while (queued_on(addr) < n) weft::yield();
}

// n goroutines, each taking a token from *addr and counting itself done,
// all queued on addr before the constructor returns.
struct queued_acquirers {
  std::atomic<std::uint32_t>* addr;
  std::atomic<int> done{0};
  weft::wait_group wg;
  queued_acquirers(std::atomic<std::uint32_t>* a, int n) : addr(a) {
    for (int k = 0; k < n; ++k)
      wg.go([this] {
        sema_acquire(addr, false, wait_reason::mutex, addr, weft::source_location::current());
        done.fetch_add(1);
      });
    wait_until_queued(addr, n);
  }
};

}  // namespace

WEFT_RUNTIME_SUITE(Sema);

// A handed-off token is the waiter's: an arrival cannot take it, the waiter
// proceeds without taking one, and the count stays at zero.
WEFT_RUNTIME_TEST(Sema, HandoffGivesTheQueuedWaiterItsToken) {
  std::atomic<std::uint32_t> count{0};
  queued_acquirers q(&count, 1);
  sema_release(&count, /*handoff=*/true);
  EXPECT_EQ(queued_on(&count), 0);
  EXPECT_FALSE(sema_try_acquire(&count)) << "an arrival took the token handed to the waiter";
  q.wg.wait();
  EXPECT_EQ(q.done.load(), 1);
  EXPECT_EQ(count.load(), 0u);
}

// Without a handoff the token goes to the count and the woken waiter competes
// for it: an arrival that takes it first sends the waiter back to the queue,
// and the next release lets it through.
WEFT_RUNTIME_TEST(Sema, PlainReleaseLetsAnArrivalTakeTheToken) {
  std::atomic<std::uint32_t> count{0};
  queued_acquirers q(&count, 1);
  sema_release(&count, /*handoff=*/false);
  EXPECT_EQ(queued_on(&count), 0);
  // The woken waiter may already have taken it (another worker ran it).
  if (sema_try_acquire(&count)) {
    wait_until_queued(&count, 1);  // it woke, found no token and queued again
    EXPECT_EQ(q.done.load(), 0);
    sema_release(&count, /*handoff=*/false);
  }
  q.wg.wait();
  EXPECT_EQ(q.done.load(), 1);
  EXPECT_EQ(count.load(), 0u);
}

// n releases at once: each queued waiter gets one token, the rest stay in the
// count for later acquirers, handing off or not.
WEFT_RUNTIME_TEST(Sema, ReleaseNWakesEveryWaiterAndCountsTheRest) {
  // (No SCOPED_TRACE: gtest keeps it per OS thread, and this goroutine may
  // resume on another worker after q.wg.wait().)
  for (bool handoff : {true, false}) {
    const char* how = handoff ? "handoff" : "plain";
    std::atomic<std::uint32_t> count{0};
    queued_acquirers q(&count, 3);
    sema_release_n(&count, 5, handoff);
    EXPECT_EQ(queued_on(&count), 0) << how;
    q.wg.wait();
    EXPECT_EQ(q.done.load(), 3) << how;
    EXPECT_EQ(count.load(), 2u) << how << ": tokens nobody waited for";
    EXPECT_TRUE(sema_try_acquire(&count)) << how;
    EXPECT_TRUE(sema_try_acquire(&count)) << how;
    EXPECT_FALSE(sema_try_acquire(&count)) << how;
  }
}

// Another address's waiter on the same root makes the release take the lock;
// with nobody queued on its own address, the token must still reach the count
// (and the other waiter must stay queued).
WEFT_RUNTIME_TEST(Sema, ReleaseOnASharedRootWithNoWaiterOfItsOwnCountsTheToken) {
  // Roots are keyed by (address >> 3) % 251: 251 * 2 four-byte counts apart.
  static std::array<std::atomic<std::uint32_t>, 2 * 251 + 1> counts{};
  std::atomic<std::uint32_t>* waited = &counts[0];
  std::atomic<std::uint32_t>* other = &counts[2 * 251];
  ASSERT_EQ(&sema_root_for(waited), &sema_root_for(other));
  waited->store(0);
  other->store(0);
  queued_acquirers q(waited, 1);
  for (bool handoff : {true, false}) sema_release(other, handoff);
  EXPECT_EQ(other->load(), 2u);
  EXPECT_EQ(queued_on(waited), 1);
  EXPECT_EQ(q.done.load(), 0);
  sema_release(waited, /*handoff=*/true);
  q.wg.wait();
  EXPECT_EQ(q.done.load(), 1);
  EXPECT_EQ(waited->load(), 0u);
}

// A root's lock and its waiter count share one word (root_lock). Threads
// that lock plainly race with threads that lock and count themselves in:
// nobody gets in while another holds it, and no count is lost, neither to a
// plain lock's fetch_or nor to the holder's plain-store unlock.
TEST(RootLock, PlainAndCountedLockingExcludeEachOtherAndKeepEveryCount) {
  root_lock l;
  long inside = 0;  // guarded by l
  constexpr int threads = 4, rounds = 4000;
  auto each = [&](auto body) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] { body(t); });
    for (auto& t : ts) t.join();
  };
  // Count in (and keep the counts) while others lock without counting.
  each([&](int t) {
    for (int k = 0; k < rounds; ++k) {
      if ((k + t) % 2 == 0) {
        l.lock_counted();
      } else {
        l.lock();
      }
      ++inside;
      l.unlock();
    }
  });
  EXPECT_EQ(inside, long{threads} * rounds);
  EXPECT_EQ(l.waiters(std::memory_order_relaxed), std::uint32_t{threads} * rounds / 2);
  // Take the counts back, under the lock, as a release does.
  each([&](int) {
    for (int k = 0; k < rounds / 2; ++k) {
      l.lock();
      l.drop_waiters(1);
      ++inside;
      l.unlock();
    }
  });
  EXPECT_EQ(inside, long{threads} * rounds * 3 / 2);
  EXPECT_EQ(l.waiters(std::memory_order_relaxed), 0u);
  // The lock is free again: a plain lock gets straight in.
  l.lock();
  l.unlock();
}
