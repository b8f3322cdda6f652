// weft::atomic<T>: the std::atomic interface, counted as synchronisation.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

WEFT_RUNTIME_SUITE(Atomic);

WEFT_RUNTIME_TEST(Atomic, IntegralOperations) {
  weft::atomic<int> a;
  EXPECT_EQ(a.load(), 0);  // value-initialised, as std::atomic in C++20
  a.store(5);
  EXPECT_EQ(a, 5);
  a = 6;
  EXPECT_EQ(a.exchange(7), 6);
  EXPECT_EQ(a.fetch_add(3), 7);
  EXPECT_EQ(a.fetch_sub(2), 10);
  EXPECT_EQ(++a, 9);
  EXPECT_EQ(a++, 9);
  EXPECT_EQ(--a, 9);
  EXPECT_EQ(a--, 9);
  EXPECT_EQ(a += 10, 18);
  EXPECT_EQ(a -= 8, 10);
  EXPECT_EQ(a.fetch_and(0b0110), 10);
  EXPECT_EQ(a.load(), 0b0010);
  EXPECT_EQ(a.fetch_or(0b1000), 0b0010);
  EXPECT_EQ(a.fetch_xor(0b1111), 0b1010);
  EXPECT_EQ(a.load(), 0b0101);
  EXPECT_EQ(a &= 0b0100, 0b0100);
  EXPECT_EQ(a |= 0b0001, 0b0101);
  EXPECT_EQ(a ^= 0b0101, 0);
  int expected = 1;
  EXPECT_FALSE(a.compare_exchange_strong(expected, 2));
  EXPECT_EQ(expected, 0);
  EXPECT_TRUE(a.compare_exchange_strong(expected, 2));
  while (!a.compare_exchange_weak(expected, 3)) {
  }
  EXPECT_EQ(a.load(std::memory_order_relaxed), 3);
  EXPECT_TRUE(a.compare_exchange_strong(expected = 3, 4, std::memory_order_acq_rel,
                                        std::memory_order_acquire));
  EXPECT_EQ(a.load(std::memory_order_acquire), 4);
  a.store(1, std::memory_order_release);
  EXPECT_EQ(a.fetch_add(1, std::memory_order_relaxed), 1);
  static_assert(weft::atomic<int>::is_always_lock_free);
  EXPECT_TRUE(a.is_lock_free());
}

// Wrapping like std::atomic, never signed overflow (UBSan checks this).
WEFT_RUNTIME_TEST(Atomic, WrapsLikeStdAtomic) {
  weft::atomic<int> a{INT_MAX};
  EXPECT_EQ(++a, INT_MIN);
  EXPECT_EQ(--a, INT_MAX);
  EXPECT_EQ(a += 2, INT_MIN + 1);
  weft::atomic<std::uint8_t> b{255};
  EXPECT_EQ(++b, 0);
}

WEFT_RUNTIME_TEST(Atomic, BoolPointerFloatEnum) {
  weft::atomic<bool> flag{false};
  EXPECT_FALSE(flag.exchange(true));
  bool e = true;
  EXPECT_TRUE(flag.compare_exchange_strong(e, false));
  EXPECT_FALSE(flag.load());

  int arr[4] = {0, 1, 2, 3};
  weft::atomic<int*> p{arr};
  EXPECT_EQ(p.fetch_add(2), arr);
  EXPECT_EQ(*p.load(), 2);
  EXPECT_EQ(--p, arr + 1);
  EXPECT_EQ(p += 2, arr + 3);
  EXPECT_EQ(p.fetch_sub(3), arr + 3);
  EXPECT_EQ(p++, arr);

  weft::atomic<double> d{1.5};
  EXPECT_EQ(d.fetch_add(1.0), 1.5);
  EXPECT_EQ(d -= 0.5, 2.0);

  enum class color { red, green };
  weft::atomic<color> c{color::red};
  EXPECT_EQ(c.exchange(color::green), color::red);
  EXPECT_EQ(c.load(), color::green);
}

// Concurrent increments are never lost, and atomics order plain memory.
WEFT_RUNTIME_TEST(Atomic, ConcurrentCounterAndPublication) {
  weft::atomic<long> counter{0};
  weft::wait_group wg;
  for (int g = 0; g < 8; ++g)
    wg.go([&] {
      for (int i = 0; i < 500; ++i) {
        counter.fetch_add(1);
        if (i % 100 == 0) weft::yield();
      }
    });
  wg.wait();
  EXPECT_EQ(counter.load(), 4000);

  // Message passing: a plain write published by a release store.
  int payload = 0;
  weft::atomic<bool> ready{false};
  weft::go([&] {
    payload = 42;
    ready.store(true, std::memory_order_release);
  });
  while (!ready.load(std::memory_order_acquire)) weft::yield();
  EXPECT_EQ(payload, 42);
}

// A CAS spin lock made of weft::atomic works on every scheduler.
WEFT_RUNTIME_TEST(Atomic, CasSpinLock) {
  weft::atomic<bool> locked{false};
  int shared = 0;
  weft::wait_group wg;
  for (int g = 0; g < 4; ++g)
    wg.go([&] {
      for (int i = 0; i < 200; ++i) {
        bool expected = false;
        while (!locked.compare_exchange_weak(expected, true, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
          expected = false;
          weft::yield();
        }
        ++shared;
        locked.store(false, std::memory_order_release);
      }
    });
  wg.wait();
  EXPECT_EQ(shared, 800);
}

// Usable outside weft::run, as a plain atomic.
TEST(AtomicOutsideRuntime, PlainThread) {
  weft::atomic<int> a{1};
  a.fetch_add(1);
  EXPECT_EQ(a.load(), 2);
}
