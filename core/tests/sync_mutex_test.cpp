// weft::mutex: Go's sync.Mutex semantics, normal and starvation mode, misuse.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

namespace {

// A global mutex needs no dynamic initialisation.
constinit weft::mutex global_mu;

std::string panic_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const weft::panic_error& e) {
    return e.what();
  }
  return "(no panic)";
}

}  // namespace

WEFT_RUNTIME_SUITE(Mutex);

WEFT_RUNTIME_TEST(Mutex, LockUnlockTryLock) {
  weft::mutex mu;
  EXPECT_TRUE(mu.try_lock());
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
  mu.lock();
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
  {
    std::lock_guard l(mu);
    EXPECT_FALSE(mu.try_lock());
  }
  {
    std::unique_lock l(mu, std::try_to_lock);
    EXPECT_TRUE(l.owns_lock());
  }
  weft::mutex other;
  {
    std::scoped_lock l(mu, other);
    EXPECT_FALSE(mu.try_lock());
    EXPECT_FALSE(other.try_lock());
  }
  EXPECT_TRUE(global_mu.try_lock());
  global_mu.unlock();
}

WEFT_RUNTIME_TEST(Mutex, UnlockOfUnlockedPanics) {
  weft::mutex mu;
  EXPECT_EQ(panic_text([&] { mu.unlock(); }), "sync: unlock of unlocked mutex");
  mu.lock();
  mu.unlock();
  EXPECT_THROW(mu.unlock(), weft::panic_error);
  // The failed unlocks changed nothing.
  EXPECT_TRUE(mu.try_lock());
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
}

// The seed's mutex demo: six increments and six decrements under the lock.
WEFT_RUNTIME_TEST(Mutex, SeedArithmetic) {
  int count = 0;
  weft::mutex lock;
  std::vector<int> seen;
  auto incr = [&] {
    std::lock_guard l(lock);
    ++count;
    seen.push_back(count);
  };
  auto decr = [&] {
    std::lock_guard l(lock);
    --count;
    seen.push_back(count);
  };
  weft::wait_group arithmetic;
  for (int i = 0; i <= 5; ++i) {
    arithmetic.add(1);
    weft::go([&] {
      incr();
      arithmetic.done();
    });
  }
  for (int i = 0; i <= 5; ++i) {
    arithmetic.add(1);
    weft::go([&] {
      decr();
      arithmetic.done();
    });
  }
  arithmetic.wait();
  EXPECT_EQ(count, 0);
  EXPECT_EQ(seen.size(), 12u);
}

// Mutual exclusion under contention, with goroutines that block and yield
// inside the critical section so that waiters really queue.
WEFT_RUNTIME_TEST(Mutex, ExclusionUnderContention) {
  weft::mutex mu;
  int inside = 0;
  long counter = 0;
  bool overlap = false;
  constexpr int workers = 8, rounds = 300;
  weft::wait_group wg;
  for (int w = 0; w < workers; ++w) {
    wg.go([&, w] {
      for (int i = 0; i < rounds; ++i) {
        std::lock_guard l(mu);
        if (++inside != 1) overlap = true;
        ++counter;
        if ((i + w) % 7 == 0) weft::yield();
        if ((i + w) % 50 == 0) weft::sleep(10us);
        --inside;
      }
    });
  }
  wg.wait();
  EXPECT_FALSE(overlap);
  EXPECT_EQ(counter, long{workers} * rounds);
}

// Go allows a goroutine to unlock a mutex another one locked.
WEFT_RUNTIME_TEST(Mutex, UnlockFromAnotherGoroutine) {
  weft::mutex mu;
  mu.lock();
  auto done = weft::make_chan<weft::unit>();
  weft::go([&] {
    mu.unlock();
    done.send({});
  });
  done.recv();
  EXPECT_TRUE(mu.try_lock());
  // And a blocked lock is released by that other goroutine's unlock.
  weft::go([&] {
    weft::sleep(1ms);
    mu.unlock();
  });
  mu.lock();
  mu.unlock();
}

// A woken waiter does not own the mutex: a goroutine that is running may
// take it first (normal mode). With several workers the waiter may also win
// the race, so the test asks only that barging happens at least once.
WEFT_RUNTIME_TEST(Mutex, RunningGoroutineBargesAheadOfWokenWaiter) {
  weft::mutex mu;
  int barged = 0;
  for (int round = 0; round < 20; ++round) {
    mu.lock();
    auto started = weft::make_chan<weft::unit>();
    auto finished = weft::make_chan<weft::unit>();
    weft::go([&] {
      started.send({});
      mu.lock();  // parks: main holds it
      mu.unlock();
      finished.send({});
    });
    started.recv();
    weft::sleep(100us);  // let it park (a shorter wait than the 1 ms starvation threshold)
    mu.unlock();         // wakes the waiter...
    if (mu.try_lock()) {  // ...but we are running
      ++barged;
      mu.unlock();
    }
    finished.recv();
  }
  EXPECT_GT(barged, 0);
}

// Starvation mode: a waiter blocked for more than 1 ms gets the mutex handed
// to it, even though the goroutine that keeps releasing it re-locks at once
// and would otherwise win every time. Without starvation mode the waiter
// could only win by racing in between unlock and lock, which on one worker
// never happens; the bound on rounds is generous for noisy machines.
WEFT_RUNTIME_TEST(Mutex, StarvingWaiterGetsHandoff) {
  weft::mutex mu;
  std::atomic<bool> waiter_got_it{false};
  auto parked = weft::make_chan<weft::unit>();
  auto finished = weft::make_chan<weft::unit>();
  mu.lock();
  weft::go([&] {
    parked.send({});
    mu.lock();
    waiter_got_it = true;
    mu.unlock();
    finished.send({});
  });
  parked.recv();
  int rounds = 0;
  while (!waiter_got_it && rounds < 1000) {
    ++rounds;
    weft::sleep(2ms);  // hold the mutex past the starvation threshold
    mu.unlock();
    mu.lock();  // barge straight back in (or queue behind a starving waiter)
  }
  mu.unlock();
  finished.recv();
  EXPECT_TRUE(waiter_got_it);
  // Round 1: the waiter wakes, loses to our re-lock and marks the mutex
  // starving; round 2's unlock hands it over. Allow for noise.
  EXPECT_LE(rounds, 10);
}

// Many goroutines that each hold the mutex across a sleep: everyone gets a
// turn (FIFO queue, handoff once starving), nobody is lost.
WEFT_RUNTIME_TEST(Mutex, EveryWaiterGetsATurn) {
  weft::mutex mu;
  constexpr int n = 12;
  std::vector<int> turns;
  weft::wait_group wg;
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      for (int k = 0; k < 3; ++k) {
        std::lock_guard l(mu);
        turns.push_back(i);
        weft::sleep(200us);
      }
    });
  }
  wg.wait();
  EXPECT_EQ(turns.size(), size_t{n} * 3);
}

WEFT_RUNTIME_TEST(Mutex, TryLockFailsWhileHeldElsewhere) {
  weft::mutex mu;
  auto locked = weft::make_chan<weft::unit>();
  auto release = weft::make_chan<weft::unit>();
  weft::go([&] {
    mu.lock();
    locked.send({});
    release.recv();
    mu.unlock();
  });
  locked.recv();
  EXPECT_FALSE(mu.try_lock());
  release.send({});
  mu.lock();
  mu.unlock();
}

// --- one worker: the interleavings are deterministic ---

// With one worker a readied waiter cannot run before the unlocker blocks, so
// the unlocker always re-takes the mutex in normal mode.
TEST(MutexOneWorker, UnlockerRetakesAheadOfWokenWaiter) {
  weft::run({.procs = 1}, [] {
    weft::mutex mu;
    std::vector<std::string> order;
    mu.lock();
    weft::go([&] {
      mu.lock();
      order.push_back("waiter");
      mu.unlock();
    });
    weft::yield();  // the waiter runs and parks in lock
    mu.unlock();    // wakes it (runnable, not running)
    ASSERT_TRUE(mu.try_lock());
    order.push_back("main");
    mu.unlock();
    for (bool both = false; !both; weft::yield()) {
      std::lock_guard l(mu);
      both = order.size() == 2;
    }
    EXPECT_EQ(order, (std::vector<std::string>{"main", "waiter"}));
  });
}

// Starvation mode on one worker: once the waiter has starved, arrivals queue
// behind it, and it leaves starvation mode when it is the last waiter.
TEST(MutexOneWorker, StarvationModeHandsOffInOrder) {
  weft::run({.procs = 1}, [] {
    weft::mutex mu;
    std::vector<std::string> order;
    mu.lock();
    weft::go([&] {
      mu.lock();
      order.push_back("starved");
      mu.unlock();
    });
    weft::yield();      // the waiter parks
    weft::sleep(3ms);   // it has now waited past the threshold
    mu.unlock();        // wake it; it becomes runnable
    mu.lock();          // we barge in (normal mode)
    weft::yield();      // it runs, loses, marks the mutex starving, requeues first
    EXPECT_FALSE(mu.try_lock());  // held by us
    mu.unlock();        // starving: handed to the waiter
    EXPECT_FALSE(mu.try_lock());  // ours no longer, although nobody runs it yet
    mu.lock();          // we queue behind it
    order.push_back("main");
    mu.unlock();
    EXPECT_EQ(order, (std::vector<std::string>{"starved", "main"}));
    // Back in normal mode: uncontended fast path.
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
  });
}

// A scheduler tearing down unwinds a goroutine parked in lock: its waiter
// record leaves the queue and the mutex stays usable.
TEST(MutexTeardown, ParkedLockerIsUnwound) {
  weft::mutex mu;  // outlives the run: the unwound goroutine touches it
  std::atomic<int> destructors{0};
  struct flag {
    std::atomic<int>* n;
    ~flag() { ++*n; }
  };
  weft::run({.procs = 2, .report_leaks = false}, [&] {
    mu.lock();
    for (int i = 0; i < 3; ++i)
      weft::go([&] {
        flag f{&destructors};
        std::lock_guard l(mu);
        ADD_FAILURE() << "locked a mutex main never released";
      });
    weft::sleep(2ms);
  });
  EXPECT_EQ(destructors.load(), 3);
  // Still held by main, which never unlocked it; no waiter is left behind.
  EXPECT_FALSE(mu.try_lock());
  mu.unlock();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

// Outside weft::run a mutex still works while nobody has to wait; waiting
// needs a goroutine to park, so it panics with a clear message and leaves the
// mutex as it was.
TEST(MutexOutsideRuntime, UncontendedWorksWaitingPanics) {
  weft::mutex mu;
  mu.lock();
  EXPECT_FALSE(mu.try_lock());
  try {
    mu.lock();
    ADD_FAILURE() << "locked a held mutex";
  } catch (const weft::panic_error& e) {
    EXPECT_NE(std::string(e.what()).find("outside a goroutine"), std::string::npos) << e.what();
  }
  mu.unlock();
  EXPECT_TRUE(mu.try_lock());  // still usable
  mu.unlock();
}
