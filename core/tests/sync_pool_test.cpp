// weft::pool<T>: Go's sync.Pool — get/put, new_fn, a cache that may drop.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

namespace {
struct counted {
  static inline std::atomic<int> live{0};
  counted() { ++live; }
  ~counted() { --live; }
  std::vector<char> mem = std::vector<char>(1024);
  std::atomic<bool> in_use{false};
};
}  // namespace

WEFT_RUNTIME_SUITE(Pool);

// The seed: New runs when the pool is empty, a put object comes back.
WEFT_RUNTIME_TEST(Pool, SeedNewThenReuse) {
  int created = 0;
  weft::pool<int> my_pool{[&] {
    ++created;  // "Creating new instance."
    return 0;
  }};
  auto a = my_pool.get();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(created, 1);
  int* raw = a.get();
  my_pool.put(std::move(a));
  auto b = my_pool.get();  // same goroutine, nothing in between: the cached one
  EXPECT_EQ(b.get(), raw);
  EXPECT_EQ(created, 1);
  auto c = my_pool.get();
  EXPECT_EQ(created, 2);
}

// The seed's calculator pool: seeded with four buffers, thousands of workers
// each take one and put it back. Only a handful are ever created.
WEFT_RUNTIME_TEST(Pool, SeedWarmCalculatorPool) {
  std::atomic<int> created{0};
  weft::pool<counted> calc_pool{[&] {
    ++created;
    return std::make_unique<counted>();
  }};
  for (int i = 0; i < 4; ++i) calc_pool.put(std::make_unique<counted>());
  std::atomic<bool> double_handout{false};
  constexpr int workers = 2000;
  weft::wait_group wg;
  for (int i = 0; i < workers; ++i)
    wg.go([&] {
      auto mem = calc_pool.get();
      if (mem->in_use.exchange(true)) double_handout = true;
      mem->mem[0] = 1;
      mem->in_use = false;
      calc_pool.put(std::move(mem));
    });
  wg.wait();
  EXPECT_FALSE(double_handout);
  // At most one object out per worker thread at a time (no goroutine blocks
  // while holding one): a generous bound.
  EXPECT_LE(created.load(), 16);
}

WEFT_RUNTIME_TEST(Pool, NoNewFunctionGivesNullWhenEmpty) {
  weft::pool<int> p;
  EXPECT_EQ(p.get(), nullptr);
  p.put(nullptr);  // ignored, as Go's Put(nil)
  EXPECT_EQ(p.get(), nullptr);
  p.put(std::make_unique<int>(5));
  auto x = p.get();
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(*x, 5);
}

// Objects a holder blocked with: each get hands out a distinct object.
WEFT_RUNTIME_TEST(Pool, ConcurrentGetPutNeverSharesAnObject) {
  weft::pool<counted> p{[] { return std::make_unique<counted>(); }};
  std::atomic<bool> shared{false};
  weft::wait_group wg;
  for (int g = 0; g < 16; ++g)
    wg.go([&] {
      for (int i = 0; i < 100; ++i) {
        auto o = p.get();
        if (o->in_use.exchange(true)) shared = true;
        if (i % 10 == 0) weft::yield();
        o->in_use = false;
        p.put(std::move(o));
      }
    });
  wg.wait();
  EXPECT_FALSE(shared);
}

// A pool is a cache: it may drop what is put in it (bounded shards), and it
// destroys what it still holds when it goes.
TEST(PoolLifetime, DropsAndDestroys) {
  weft::run({.procs = 2}, [] {
    const int before = counted::live.load();
    {
      weft::pool<counted> p;
      for (int i = 0; i < 5000; ++i) p.put(std::make_unique<counted>());
      EXPECT_LT(counted::live.load() - before, 5000);  // some were dropped
      EXPECT_GT(counted::live.load() - before, 0);     // some were kept
    }
    EXPECT_EQ(counted::live.load(), before);
  });
}
