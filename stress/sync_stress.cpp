// Stress: the sync primitives' park and wake paths (mutex in normal and
// starvation mode, rw_mutex's writer and its readers, wait_group with several
// waiters, cond) at 1, 2, 4 and 8 workers. Each checks a conservation law or
// an invariant held under the lock, so a lost wake-up shows up as a hang
// (ctest's timeout), a token given twice as a broken invariant or a wrong count.
#include <gtest/gtest.h>

#include <weft/weft.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <vector>

#include "stress.hpp"

using namespace std::chrono_literals;
using weft_stress::scale;

TEST_P(Stress, MutexCountsEveryIncrementThroughParksAndStarvation) {
  // Goroutines increment a plain counter under one mutex. Some hold it across
  // a yield (others park behind them), and one now and then across a sleep
  // past the 1 ms starvation threshold (the queue goes into starvation mode
  // and the mutex is handed from waiter to waiter). Inside, the holder checks
  // that nobody else is: a token handed twice would let two in.
  const int goroutines = 4 * scale, per = 2000;
  long counted = 0, overlaps_seen = 0;
  weft::run({.procs = GetParam()}, [&] {
    weft::mutex mu;
    long counter = 0;
    std::atomic<int> inside{0};
    std::atomic<long> overlaps{0};
    weft::wait_group wg;
    for (int g = 0; g < goroutines; ++g)
      wg.go([&, g] {
        std::mt19937 rng(g);
        for (int i = 0; i < per; ++i) {
          std::unique_lock l(mu, std::defer_lock);
          if (rng() % 4 == 0) {
            while (!l.try_lock()) weft::yield();
          } else {
            l.lock();
          }
          if (inside.fetch_add(1) != 0) overlaps++;
          ++counter;
          const unsigned dice = rng() % 512;
          if (dice == 0 && g == 0) weft::sleep(2ms);  // waiters starve
          else if (dice < 32) weft::yield();          // waiters park
          inside.fetch_sub(1);
        }
      });
    wg.wait();
    counted = counter;
    overlaps_seen = overlaps.load();
  });
  EXPECT_EQ(counted, long{goroutines} * per);
  EXPECT_EQ(overlaps_seen, 0);
}

TEST_P(Stress, RWMutexWritersAndReadersNeverOverlap) {
  // Two writers keep a pair (a, ~a) whole under the write lock, yielding
  // between the halves; readers check it under the read lock, some across a
  // yield. Readers that arrive behind a pending writer park and are woken by
  // its unlock (their tokens may go to other readers); the writer is woken by
  // the last reader out. Every read sees a whole pair, and no reader is ever
  // inside with a writer (checked on both sides: a writer let in early by a
  // stray token would find a reader inside).
  const int readers = 4 * scale, reads = 3000, writes = 1500;
  long torn_seen = 0, writes_seen = 0;
  weft::run({.procs = GetParam()}, [&] {
    weft::rw_mutex rw;
    long a = 0, b = ~0L;
    std::atomic<int> writers_in{0}, readers_in{0};
    std::atomic<long> torn{0};
    std::atomic<long> written{0};
    weft::wait_group wg;
    for (int w = 0; w < 2; ++w)
      wg.go([&] {
        for (int i = 0; i < writes; ++i) {
          std::lock_guard l(rw);
          if (writers_in.fetch_add(1) != 0 || readers_in.load() != 0) torn++;
          ++a;
          if (i % 16 == 0) weft::yield();
          b = ~a;
          written++;
          writers_in.fetch_sub(1);
        }
      });
    for (int k = 0; k < readers; ++k)
      wg.go([&, k] {
        std::mt19937 rng(k);
        for (int i = 0; i < reads; ++i) {
          std::shared_lock l(rw);
          readers_in.fetch_add(1);
          if (writers_in.load() != 0 || b != ~a) torn++;
          if (rng() % 8 == 0) {
            weft::yield();
            if (writers_in.load() != 0 || b != ~a) torn++;
          }
          readers_in.fetch_sub(1);
        }
      });
    wg.wait();
    if (a != written.load()) torn++;
    torn_seen = torn.load();
    writes_seen = written.load();
  });
  EXPECT_EQ(torn_seen, 0);
  EXPECT_EQ(writes_seen, 2L * writes);
}

TEST_P(Stress, WaitGroupReleasesEveryWaiterOfEveryRound) {
  // Round after round: workers finish while several goroutines wait on the
  // same wait_group, so done() releases them all at once. Every waiter of
  // every round must return, and only after that round's workers are done.
  const int rounds = 100 * scale, workers = 6, waiters = 4;
  std::atomic<long> too_early{0};
  weft::run({.procs = GetParam()}, [&] {
    for (int round = 0; round < rounds; ++round) {
      weft::wait_group wg, waiting;
      std::atomic<int> finished{0};
      wg.add(workers);
      for (int w = 0; w < waiters; ++w)
        waiting.go([&] {
          wg.wait();
          if (finished.load() != workers) too_early++;
        });
      for (int k = 0; k < workers; ++k)
        weft::go([&, k] {
          if (k % 2) weft::yield();
          finished.fetch_add(1);
          wg.done();
        });
      waiting.wait();
    }
  });
  EXPECT_EQ(too_early.load(), 0);
}

TEST_P(Stress, CondQueueHandsEveryItemToOneConsumer) {
  // The seeds' Cond queue: producers push under the mutex and signal (or
  // broadcast now and then); consumers wait while the queue is empty. Every
  // item is taken exactly once.
  const int producers = 2 * scale, consumers = 2 * scale, per = 1500;
  long sum_taken = 0, items_taken = 0;
  weft::run({.procs = GetParam()}, [&] {
    weft::mutex mu;
    weft::cond cv(mu);
    std::vector<long> queue;
    bool closed = false;
    std::atomic<long> sum{0}, count{0};
    weft::wait_group made, taken;
    for (int p = 0; p < producers; ++p)
      made.go([&, p] {
        for (int i = 1; i <= per; ++i) {
          std::lock_guard l(mu);
          queue.push_back(long{p} * per + i);
          if (i % 64 == 0)
            cv.broadcast();
          else
            cv.signal();
        }
      });
    for (int c = 0; c < consumers; ++c)
      taken.go([&] {
        std::unique_lock l(mu);
        for (;;) {
          while (queue.empty() && !closed) cv.wait();
          if (queue.empty()) return;
          sum += queue.back();
          count++;
          queue.pop_back();
        }
      });
    made.wait();
    {
      std::lock_guard l(mu);
      closed = true;
      cv.broadcast();
    }
    taken.wait();
    sum_taken = sum.load();
    items_taken = count.load();
  });
  const long n = long{producers} * per;
  EXPECT_EQ(items_taken, n);
  EXPECT_EQ(sum_taken, n * (n + 1) / 2);
}
