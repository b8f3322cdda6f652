// weft::cond: wait/signal/broadcast, FIFO wake order, lost signals, misuse.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

namespace {
std::string panic_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const weft::panic_error& e) {
    return e.what();
  }
  return "(no panic)";
}

// Poll pred under mu (sleeping with mu released) until it holds.
template <class Pred>
void poll_locked(weft::mutex& mu, Pred pred) {
  for (;;) {
    {
      std::lock_guard l(mu);
      if (pred()) return;
    }
    weft::sleep(std::chrono::microseconds(20));
  }
}
}  // namespace

WEFT_RUNTIME_SUITE(Cond);

// The seed's queue: at most two items; the producer waits for room and each
// remover signals after taking one.
WEFT_RUNTIME_TEST(Cond, SeedQueue) {
  weft::mutex mu;
  weft::cond c{mu};
  std::deque<int> queue;
  std::size_t max_len = 0;
  int removed = 0;
  weft::wait_group removers;
  auto remove_from_queue = [&](weft::duration delay) {
    weft::sleep(delay);
    mu.lock();
    queue.pop_front();
    ++removed;
    mu.unlock();
    c.signal();
  };
  for (int i = 0; i < 10; ++i) {
    mu.lock();
    while (queue.size() == 2) c.wait();
    queue.push_back(i);
    max_len = std::max(max_len, queue.size());
    removers.go([&] { remove_from_queue(1ms); });
    mu.unlock();
  }
  removers.wait();
  EXPECT_EQ(max_len, 2u);
  EXPECT_EQ(removed, 10);
  EXPECT_TRUE(queue.empty());
}

// The seed's button: every subscriber is woken by one broadcast. Subscribers
// announce themselves while holding the lock, so by the time the clicker has
// the lock they are all waiting (the seed's version races).
WEFT_RUNTIME_TEST(Cond, SeedButtonBroadcast) {
  weft::mutex mu;
  weft::cond clicked{mu};
  weft::wait_group click_registered;
  std::vector<std::string> handled;
  auto subscribe = [&](std::string what) {
    weft::wait_group running;
    running.add(1);
    weft::go([&, what] {
      std::unique_lock l(mu);
      running.done();
      clicked.wait();
      handled.push_back(what);
      l.unlock();  // before done(): once all are done, mu goes out of scope
      click_registered.done();
    });
    running.wait();
  };
  click_registered.add(3);
  subscribe("Maximizing window.");
  subscribe("Displaying annoying dialog box!");
  subscribe("Mouse clicked.");
  { std::lock_guard l(mu); }  // every subscriber is now inside wait()
  clicked.broadcast();
  click_registered.wait();
  EXPECT_EQ(handled.size(), 3u);
}

// A signal with nobody waiting is lost: it does not wake a later waiter.
WEFT_RUNTIME_TEST(Cond, SignalWithoutWaiterIsLost) {
  weft::mutex mu;
  weft::cond c{mu};
  c.signal();
  c.broadcast();
  std::atomic<bool> woke{false};
  weft::wait_group wg;
  bool waiting = false;
  wg.go([&] {
    std::unique_lock l(mu);
    waiting = true;
    c.wait();
    woke = true;
  });
  poll_locked(mu, [&] { return waiting; });  // it holds mu until it is inside wait()
  weft::sleep(2ms);
  EXPECT_FALSE(woke) << "an earlier signal woke a later waiter";
  c.signal();
  wg.wait();
  EXPECT_TRUE(woke);
}

// signal wakes the longest waiter first.
WEFT_RUNTIME_TEST(Cond, SignalWakesInFifoOrder) {
  weft::mutex mu;
  weft::cond c{mu};
  constexpr int n = 5;
  int waiting = 0;
  auto woken = weft::make_chan<int>(n);
  weft::wait_group wg;
  for (int i = 0; i < n; ++i) {
    wg.go([&, i] {
      std::unique_lock l(mu);
      ++waiting;
      c.wait();
      woken.send(i);
    });
    // Start the next waiter only once this one is waiting.
    poll_locked(mu, [&] { return waiting == i + 1; });
  }
  for (int i = 0; i < n; ++i) {
    c.signal();
    EXPECT_EQ(*woken.recv(), i);
  }
  wg.wait();
}

WEFT_RUNTIME_TEST(Cond, BroadcastWakesEveryone) {
  weft::mutex mu;
  weft::cond c{mu};
  bool go_ahead = false;
  int through = 0;
  weft::wait_group wg;
  for (int i = 0; i < 20; ++i)
    wg.go([&] {
      std::unique_lock l(mu);
      while (!go_ahead) c.wait();
      ++through;
    });
  weft::sleep(1ms);
  {
    std::lock_guard l(mu);
    go_ahead = true;
  }
  c.broadcast();
  wg.wait();
  EXPECT_EQ(through, 20);
}

// wait() without the mutex held panics and leaves no trace: a later waiter
// still gets the next signal.
WEFT_RUNTIME_TEST(Cond, WaitWithoutLockPanics) {
  weft::mutex mu;
  weft::cond c{mu};
  EXPECT_EQ(panic_text([&] { c.wait(); }), "sync: unlock of unlocked mutex");
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
  bool waiting = false;
  weft::wait_group wg;
  wg.go([&] {
    std::unique_lock l(mu);
    waiting = true;
    c.wait();
  });
  poll_locked(mu, [&] { return waiting; });
  c.signal();
  wg.wait();
}

// Producer/consumer on one cond, waiting in a loop on a predicate.
WEFT_RUNTIME_TEST(Cond, ProducerConsumer) {
  weft::mutex mu;
  weft::cond not_empty{mu}, not_full{mu};
  std::deque<int> q;
  constexpr std::size_t cap = 3;
  constexpr int items = 200;
  long sum = 0;
  weft::wait_group wg;
  for (int p = 0; p < 2; ++p)
    wg.go([&, p] {
      for (int i = 0; i < items; ++i) {
        std::unique_lock l(mu);
        while (q.size() == cap) not_full.wait();
        q.push_back(p * items + i);
        not_empty.signal();
      }
    });
  for (int k = 0; k < 2 * items; ++k) {
    std::unique_lock l(mu);
    while (q.empty()) not_empty.wait();
    sum += q.front();
    q.pop_front();
    not_full.signal();
  }
  wg.wait();
  EXPECT_EQ(sum, long{2 * items} * (2 * items - 1) / 2);
}

// The seed's livelock: two people in a hallway step in lock-step to a 1 ms
// cadence (a ticker broadcasting on a cond) and keep choosing the same side;
// after five tries each gives up. The program must terminate either way.
WEFT_RUNTIME_TEST(Cond, SeedHallwayLivelock) {
  weft::mutex cadence_mu;
  weft::cond cadence{cadence_mu};
  auto stop = weft::make_chan<weft::unit>();
  weft::wait_group ticker_done;
  ticker_done.go([&] {
    weft::ticker t = weft::new_ticker(1ms);
    for (bool running = true; running;) {
      weft::select(weft::on_recv(t.c(), [&](auto) { cadence.broadcast(); }),
                   weft::on_recv(stop, [&](auto) { running = false; }));
    }
    t.stop();
  });
  auto take_step = [&] {
    std::unique_lock l(cadence_mu);
    cadence.wait();
  };
  weft::atomic<int> left{0}, right{0};
  auto try_dir = [&](weft::atomic<int>& dir) {
    dir.fetch_add(1);
    take_step();
    if (dir.load() == 1) return true;
    take_step();
    dir.fetch_sub(1);
    return false;
  };
  std::atomic<int> finished{0};
  auto walk = [&] {
    for (int i = 0; i < 5; ++i)
      if (try_dir(left) || try_dir(right)) break;
    ++finished;
  };
  weft::wait_group hallway;
  hallway.go(walk);
  hallway.go(walk);
  hallway.wait();
  stop.close();
  ticker_done.wait();
  EXPECT_EQ(finished.load(), 2);
}

// Teardown unwinds a goroutine parked in wait() under a unique_lock: wait()
// relocks on the way out, so the unique_lock's unlock is balanced.
TEST(CondTeardown, ParkedWaiterRelocksWhileUnwinding) {
  weft::mutex mu;
  weft::cond c{mu};
  std::atomic<int> destructors{0};
  struct flag {
    std::atomic<int>* n;
    ~flag() { ++*n; }
  };
  weft::run({.procs = 2, .report_leaks = false}, [&] {
    for (int i = 0; i < 3; ++i)
      weft::go([&] {
        flag f{&destructors};
        std::unique_lock l(mu);
        c.wait();
      });
    weft::sleep(1ms);
  });
  EXPECT_EQ(destructors.load(), 3);
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}
