// weft::rw_mutex: readers share, writers exclude, a waiting writer blocks new
// readers (Go's writer preference), misuse panics.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
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

// Poll until a writer has announced itself (new readers are refused).
void wait_for_pending_writer(weft::rw_mutex& m) {
  for (;;) {
    if (!m.try_lock_shared()) return;
    m.unlock_shared();
    weft::sleep(50us);
  }
}
}  // namespace

WEFT_RUNTIME_SUITE(RWMutex);

WEFT_RUNTIME_TEST(RWMutex, ReadersShareWritersExclude) {
  weft::rw_mutex m;
  m.lock_shared();
  EXPECT_TRUE(m.try_lock_shared());  // a second reader
  EXPECT_FALSE(m.try_lock());        // no writer while readers hold it
  m.unlock_shared();
  m.unlock_shared();
  EXPECT_TRUE(m.try_lock());
  EXPECT_FALSE(m.try_lock_shared());  // no reader while a writer holds it
  EXPECT_FALSE(m.try_lock());
  m.unlock();
  {
    std::shared_lock r1(m);
    std::shared_lock r2(m);
    EXPECT_TRUE(r2.owns_lock());
  }
  {
    std::unique_lock w(m);
    EXPECT_FALSE(m.try_lock_shared());
  }
  EXPECT_TRUE(m.try_lock_shared());
  m.unlock_shared();
}

WEFT_RUNTIME_TEST(RWMutex, MisusePanics) {
  weft::rw_mutex m;
  EXPECT_EQ(panic_text([&] { m.unlock_shared(); }), "sync: RUnlock of unlocked RWMutex");
  EXPECT_EQ(panic_text([&] { m.unlock(); }), "sync: Unlock of unlocked RWMutex");
  m.lock();
  // Held by a writer, not by a reader.
  EXPECT_EQ(panic_text([&] { m.unlock_shared(); }), "sync: RUnlock of unlocked RWMutex");
  m.unlock();
  m.lock_shared();
  // Held by a reader, not by a writer.
  EXPECT_EQ(panic_text([&] { m.unlock(); }), "sync: Unlock of unlocked RWMutex");
  m.unlock_shared();
  EXPECT_EQ(panic_text([&] { m.unlock_shared(); }), "sync: RUnlock of unlocked RWMutex");
  // Nothing was changed by the failed calls.
  EXPECT_TRUE(m.try_lock());
  m.unlock();
  EXPECT_TRUE(m.try_lock_shared());
  m.unlock_shared();
}

// Once a writer waits, a new reader waits too — and gets in only after the
// writer has had its turn.
WEFT_RUNTIME_TEST(RWMutex, WriterPreference) {
  weft::rw_mutex m;
  weft::mutex log_mu;
  std::vector<std::string> log;
  auto note = [&](const char* s) {
    std::lock_guard l(log_mu);
    log.push_back(s);
  };
  weft::wait_group wg;
  m.lock_shared();  // the reader already inside
  wg.go([&] {
    m.lock();
    note("writer");
    weft::sleep(1ms);
    m.unlock();
  });
  wait_for_pending_writer(m);
  wg.go([&] {
    m.lock_shared();  // arrives behind the writer
    note("late reader");
    m.unlock_shared();
  });
  weft::sleep(1ms);
  {
    std::lock_guard l(log_mu);
    EXPECT_TRUE(log.empty()) << "the late reader got past a waiting writer";
  }
  m.unlock_shared();  // the last early reader lets the writer in
  wg.wait();
  EXPECT_EQ(log, (std::vector<std::string>{"writer", "late reader"}));
}

// Readers hold the lock together: two readers can both be inside at once.
WEFT_RUNTIME_TEST(RWMutex, ReadersAreConcurrent) {
  weft::rw_mutex m;
  auto in1 = weft::make_chan<weft::unit>();
  auto in2 = weft::make_chan<weft::unit>();
  weft::wait_group wg;
  wg.go([&] {
    std::shared_lock r(m);
    in1.send({});
    in2.recv();  // the other reader got in while we hold it
  });
  in1.recv();
  wg.go([&] {
    std::shared_lock r(m);
    in2.send({});
  });
  wg.wait();
}

// Readers and writers mixed: a writer is always alone, readers never see a
// half-written value.
WEFT_RUNTIME_TEST(RWMutex, InvariantUnderContention) {
  weft::rw_mutex m;
  int a = 0, b = 0;  // a writer keeps a == b
  weft::atomic<int> writers_inside{0}, readers_inside{0};
  std::atomic<bool> broken{false};
  weft::wait_group wg;
  for (int w = 0; w < 3; ++w)
    wg.go([&] {
      for (int i = 0; i < 100; ++i) {
        std::lock_guard l(m);
        if (writers_inside.fetch_add(1) != 0 || readers_inside.load() != 0) broken = true;
        ++a;
        if (i % 10 == 0) weft::yield();
        ++b;
        writers_inside.fetch_sub(1);
      }
    });
  for (int r = 0; r < 5; ++r)
    wg.go([&] {
      for (int i = 0; i < 200; ++i) {
        std::shared_lock l(m);
        readers_inside.fetch_add(1);
        if (writers_inside.load() != 0 || a != b) broken = true;
        if (i % 16 == 0) weft::yield();
        readers_inside.fetch_sub(1);
      }
    });
  wg.wait();
  EXPECT_FALSE(broken);
  EXPECT_EQ(a, 300);
  EXPECT_EQ(b, 300);
}

// The seed's producer/observer: a writer-ish producer and many observers
// sharing the lock (Go's RLocker), run with both the rw_mutex and a mutex.
WEFT_RUNTIME_TEST(RWMutex, SeedProducerObservers) {
  weft::rw_mutex m;
  auto test = [&](int count, auto& producer_lock, auto& observer_lock) {
    weft::wait_group wg;
    wg.add(count + 1);
    weft::go([&] {
      for (int i = 5; i > 0; --i) {
        producer_lock.lock();
        producer_lock.unlock();
        weft::sleep(1us);
      }
      wg.done();
    });
    for (int i = count; i > 0; --i)
      weft::go([&] {
        observer_lock.lock();
        observer_lock.unlock();
        wg.done();
      });
    wg.wait();
  };
  struct rlocker {
    weft::rw_mutex& m;
    void lock() { m.lock_shared(); }
    void unlock() { m.unlock_shared(); }
  } readers{m};
  for (int count : {1, 8, 64}) {
    test(count, m, readers);
    test(count, m, m);
  }
}

// Teardown unwinds a reader and a writer parked on a lock main never gives
// back; the lock's counters are restored.
TEST(RWMutexTeardown, ParkedReaderAndWriterAreUnwound) {
  weft::rw_mutex m;
  std::atomic<int> destructors{0};
  struct flag {
    std::atomic<int>* n;
    ~flag() { ++*n; }
  };
  weft::run({.procs = 1, .report_leaks = false}, [&] {
    m.lock_shared();
    weft::go([&] {  // a writer waiting for main's read lock
      flag f{&destructors};
      std::lock_guard l(m);
    });
    weft::yield();
    weft::go([&] {  // a reader behind that writer
      flag f{&destructors};
      std::shared_lock l(m);
    });
    weft::go([&] {  // a second writer, waiting for the first
      flag f{&destructors};
      std::lock_guard l(m);
    });
    weft::sleep(1ms);
  });
  EXPECT_EQ(destructors.load(), 3);
  // Only main's read lock is left.
  EXPECT_FALSE(m.try_lock());
  EXPECT_TRUE(m.try_lock_shared());
  m.unlock_shared();
  m.unlock_shared();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}
