// weft::atomic_value<T>: Go's atomic.Value — whole-value load/store/swap/CAS.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>
#include <string>
#include <thread>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

namespace {
std::string panic_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const weft::panic_error& e) {
    return e.what();
  }
  return "(no panic)";
}

// The seed's Config: six ints written together.
struct config {
  std::array<int, 6> a{};
  static config make(int i) { return config{{i, i + 1, i + 2, i + 3, i + 4, i + 5}}; }
  bool consistent() const {
    for (int k = 1; k < 6; ++k)
      if (a[k] != a[0] + k) return false;
    return true;
  }
};

struct tracked {
  static inline std::atomic<int> live{0};
  int v;
  explicit tracked(int v) : v(v) { ++live; }
  tracked(const tracked& o) : v(o.v) { ++live; }
  ~tracked() { --live; }
  bool operator==(const tracked& o) const { return v == o.v; }
};
}  // namespace

WEFT_RUNTIME_SUITE(AtomicValue);

WEFT_RUNTIME_TEST(AtomicValue, LoadStoreSwap) {
  weft::atomic_value<std::string> v;
  EXPECT_EQ(v.load(), nullptr);  // never stored
  v.store("one");
  auto snap = v.load();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(*snap, "one");
  auto old = v.swap("two");
  EXPECT_EQ(*old, "one");
  EXPECT_EQ(*v.load(), "two");
  EXPECT_EQ(*snap, "one");  // a snapshot outlives the store that replaced it
  v.store(std::make_shared<const std::string>("three"));
  EXPECT_EQ(*v.load(), "three");
  weft::atomic_value<int> w{7};
  EXPECT_EQ(*w.load(), 7);
}

// Never stored, an atomic_value points at a shared empty node: reads give
// null, and neither its destruction nor the first store may free that node.
WEFT_RUNTIME_TEST(AtomicValue, EmptyValueReadsAsNull) {
  {
    weft::atomic_value<int> v;
    auto b = v.borrow();
    EXPECT_FALSE(b);
    EXPECT_EQ(b.get(), nullptr);
    EXPECT_EQ(v.load(), nullptr);
    EXPECT_EQ(std::shared_ptr<const int>(v.load()).use_count(), 0);  // empty, not a null with an owner
  }
  weft::atomic_value<int> w;
  auto held = w.borrow();  // an empty borrow held across the first store
  EXPECT_EQ(w.swap(1), nullptr);
  EXPECT_FALSE(held);
  EXPECT_EQ(*w.borrow(), 1);
  held.reset();
  EXPECT_EQ(*w.swap(2), 1);
  weft::atomic_value<int> x;
  EXPECT_FALSE(x.borrow());
  x.store(3);
  EXPECT_EQ(*x.borrow(), 3);
}

WEFT_RUNTIME_TEST(AtomicValue, CompareAndSwap) {
  weft::atomic_value<int> v;
  EXPECT_FALSE(v.compare_and_swap(0, 1));  // empty: no value equals 0
  EXPECT_TRUE(v.compare_and_swap(nullptr, 1));
  EXPECT_FALSE(v.compare_and_swap(nullptr, 2));  // not empty any more
  EXPECT_FALSE(v.compare_and_swap(5, 2));
  EXPECT_EQ(*v.load(), 1);
  EXPECT_TRUE(v.compare_and_swap(1, 2));  // compares values, not pointers
  EXPECT_EQ(*v.load(), 2);
}

WEFT_RUNTIME_TEST(AtomicValue, NilStorePanics) {
  weft::atomic_value<int> v;
  EXPECT_EQ(panic_text([&] { v.store(std::shared_ptr<const int>{}); }),
            "sync/atomic: store of nil value into Value");
  EXPECT_EQ(panic_text([&] { v.swap(std::shared_ptr<const int>{}); }),
            "sync/atomic: swap of nil value into Value");
  EXPECT_EQ(v.load(), nullptr);
}

WEFT_RUNTIME_TEST(AtomicValue, ReplacedValuesAreReleased) {
  const int before = tracked::live.load();
  {
    weft::atomic_value<tracked> v{tracked{0}};
    for (int i = 1; i <= 100; ++i) v.store(tracked{i});
    EXPECT_EQ(tracked::live.load() - before, 1);
    EXPECT_TRUE(v.compare_and_swap(tracked{100}, tracked{101}));
    EXPECT_EQ(v.load()->v, 101);
    EXPECT_EQ(tracked::live.load() - before, 1);
    // Never borrowed: a replaced value goes with its last shared_ptr
    // snapshot...
    std::shared_ptr<const tracked> shared = v.load();
    v.store(tracked{102});
    EXPECT_EQ(tracked::live.load() - before, 2);
    shared.reset();
    EXPECT_EQ(tracked::live.load() - before, 1);
    // ...and after a snapshot's end, with this thread's next store (its
    // slot still names the value until then).
    auto snap = v.load();
    v.store(tracked{103});
    EXPECT_EQ(tracked::live.load() - before, 2);
    snap.reset();
    EXPECT_FALSE(snap);
    EXPECT_EQ(tracked::live.load() - before, 2);
    v.store(tracked{104});
    EXPECT_EQ(tracked::live.load() - before, 1);
  }
  EXPECT_EQ(tracked::live.load(), before);
}

// A value stored by value shares one allocation with its node; snapshots of
// it (load, swap) keep that block alive past the store that replaced it and
// past the atomic_value, and the value dies with the last of them. A value
// stored as a shared_ptr is the caller's own object.
WEFT_RUNTIME_TEST(AtomicValue, SnapshotsOutliveTheAtomicValue) {
  const int before = tracked::live.load();
  std::shared_ptr<const tracked> snap, old, mine = std::make_shared<const tracked>(3);
  {
    weft::atomic_value<tracked> v{tracked{1}};
    snap = v.load();
    old = v.swap(tracked{2});
    EXPECT_EQ(old.get(), snap.get());
    EXPECT_EQ(old->v, 1);
    v.store(mine);
    EXPECT_EQ(v.load().get(), mine.get());
    EXPECT_EQ(v.borrow().get(), mine.get());
    EXPECT_EQ(tracked::live.load() - before, 2);  // 1 (held twice) and 3; 2 is gone
  }
  EXPECT_EQ(snap->v, 1);
  EXPECT_EQ(tracked::live.load() - before, 2);
  snap.reset();
  EXPECT_EQ(tracked::live.load() - before, 2);
  old.reset();
  EXPECT_EQ(tracked::live.load() - before, 1);
  mine.reset();
  EXPECT_EQ(tracked::live.load(), before);
}

// The seed's benchmark as a test: one goroutine stores 500 fresh configs
// while 4 readers each make 300 reads with read(v, last, n); a reader reports
// a torn, freed or older-than-last config by returning false.
template <class Read>
bool readers_see_only_whole_configs(weft::atomic_value<config>& v, Read read) {
  std::atomic<bool> torn{false};
  weft::wait_group wg;
  wg.go([&] {
    for (int i = 1; i <= 500; ++i) {
      v.store(config::make(i));
      if (i % 16 == 0) weft::yield();
    }
  });
  for (int r = 0; r < 4; ++r)
    wg.go([&] {
      int last = 0;
      for (int n = 0; n < 300; ++n)
        if (!read(v, last, n)) torn = true;
    });
  wg.wait();
  return !torn;
}

WEFT_RUNTIME_TEST(AtomicValue, SeedReadersNeverSeeTornConfig) {
  weft::atomic_value<config> v{config::make(0)};
  EXPECT_TRUE(readers_see_only_whole_configs(v, [](auto& v, int& last, int n) {
    auto c = v.load();
    const bool whole = c->consistent() && c->a[0] >= last;
    last = c->a[0];
    if (n % 16 == 0) weft::yield();
    return whole;
  }));
  EXPECT_EQ(v.load()->a[0], 500);
}

// Stores into a borrowed atomic_value (each value borrowed too, so every
// retire waits for a scan) until only its current value lives; returns how
// many stores that took.
namespace {
int stores_until_only_current_lives(weft::atomic_value<tracked>& v, int before) {
  int stores = 0;
  do {
    v.store(tracked{1000 + stores});
    EXPECT_TRUE(v.borrow());
    ++stores;
  } while (tracked::live.load() - before > 1 && stores <= 4 * weft::detail::hazard_deferred_scan);
  EXPECT_EQ(tracked::live.load() - before, 1);
  return stores;
}
}  // namespace

// borrow(): the value read in place; empty before the first store; the
// borrowed value outlives the store that replaced it, and once the borrow
// ends it is released by a later store: within hazard_deferred_scan stores,
// every retire of a borrowed atomic_value waiting for a scan.
WEFT_RUNTIME_TEST(AtomicValue, BorrowKeepsReplacedValueUntilItEnds) {
  const int before = tracked::live.load();
  {
    weft::atomic_value<tracked> v;
    EXPECT_FALSE(v.borrow());
    v.store(tracked{1});
    auto b = v.borrow();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->v, 1);
    v.store(tracked{2});
    EXPECT_EQ(b->v, 1);  // still readable: named in this thread's slot
    EXPECT_EQ((*b).v, 1);
    EXPECT_EQ(tracked::live.load() - before, 2);
    EXPECT_EQ(v.borrow()->v, 2);
    auto moved = std::move(b);
    EXPECT_FALSE(b);
    EXPECT_EQ(moved.get()->v, 1);
    moved.reset();
    EXPECT_EQ(tracked::live.load() - before, 2);  // freed by a later store
    EXPECT_LE(stores_until_only_current_lives(v, before), weft::detail::hazard_deferred_scan);
  }
  EXPECT_EQ(tracked::live.load(), before);
}

// A borrow may outlive the atomic_value itself.
WEFT_RUNTIME_TEST(AtomicValue, BorrowOutlivesTheValue) {
  const int before = tracked::live.load();
  std::optional<weft::atomic_value<tracked>::borrowed> b;
  {
    weft::atomic_value<tracked> v{tracked{7}};
    b = v.borrow();
  }
  EXPECT_EQ((*b)->v, 7);
  b.reset();
  weft::atomic_value<tracked> other{tracked{8}};
  other.store(tracked{9});  // its scan frees the orphaned node too
  EXPECT_EQ(tracked::live.load() - before, 1);
}

// More borrows at once than a thread has hazard slots: the rest go through
// spare records, and every one of them stays valid.
WEFT_RUNTIME_TEST(AtomicValue, ManyBorrowsAtOnce) {
  const int before = tracked::live.load();
  {
    weft::atomic_value<tracked> v{tracked{0}};
    std::vector<weft::atomic_value<tracked>::borrowed> held;
    for (int i = 0; i < 40; ++i) {
      held.push_back(v.borrow());
      v.store(tracked{i + 1});
    }
    for (int i = 0; i < 40; ++i) EXPECT_EQ(held[i]->v, i);
    EXPECT_EQ(tracked::live.load() - before, 41);
    held.clear();
    EXPECT_LE(stores_until_only_current_lives(v, before), weft::detail::hazard_deferred_scan);
  }
  EXPECT_EQ(tracked::live.load(), before);
}

// Borrowers that park while holding (and may resume on another worker), a
// writer storing throughout: no torn or freed config is ever read.
WEFT_RUNTIME_TEST(AtomicValue, BorrowAcrossParksNeverSeesTornConfig) {
  weft::atomic_value<config> v{config::make(0)};
  EXPECT_TRUE(readers_see_only_whole_configs(v, [](auto& v, int& last, int n) {
    auto c = v.borrow();
    bool whole = c->consistent() && c->a[0] >= last;
    last = c->a[0];
    if (n % 8 == 0) weft::yield();  // still borrowing
    return whole && c->consistent() && c->a[0] == last;
  }));
  EXPECT_EQ(v.borrow()->a[0], 500);
}

// Snapshots held across parks (the goroutine may resume on another worker
// and drop it there), a writer storing throughout: none is torn or freed.
WEFT_RUNTIME_TEST(AtomicValue, SnapshotAcrossParksNeverSeesTornConfig) {
  weft::atomic_value<config> v{config::make(0)};
  EXPECT_TRUE(readers_see_only_whole_configs(v, [](auto& v, int& last, int n) {
    auto c = v.load();
    auto copy = c;  // a second owner of the same snapshot
    bool whole = c->consistent() && c->a[0] >= last;
    last = c->a[0];
    c.reset();
    if (n % 8 == 0) weft::yield();  // still held through the copy
    return whole && copy->consistent() && copy->a[0] == last;
  }));
  EXPECT_EQ(v.load()->a[0], 500);
}

// A snapshot is a value: copied, it counts a reference (the copy outlives
// the original and a store); converted to a shared_ptr, it keeps the value
// the same way; moved, assigned and compared, it behaves as a pointer.
WEFT_RUNTIME_TEST(AtomicValue, SnapshotCopiesMovesAndConversions) {
  const int before = tracked::live.load();
  {
    weft::atomic_value<tracked> v{tracked{1}};
    weft::atomic_value<tracked>::snapshot empty;
    EXPECT_FALSE(empty);
    EXPECT_EQ(empty, nullptr);
    EXPECT_EQ(std::shared_ptr<const tracked>(empty), nullptr);

    auto a = v.load();
    auto b = a;                             // a copy of a snapshot read in place
    std::shared_ptr<const tracked> p = a;   // from a snapshot that stays
    auto c = v.load();                      // a second load while a holds the slot
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, p);
    EXPECT_EQ(p, c);
    EXPECT_EQ(c->v, 1);
    EXPECT_NE(a, nullptr);
    v.store(tracked{2});
    a.reset();
    c.reset();
    EXPECT_EQ(b->v, 1);
    EXPECT_EQ(p->v, 1);
    EXPECT_EQ(tracked::live.load() - before, 2);
    b.reset();
    p.reset();
    v.store(tracked{3});  // this thread's idle name goes; 1 is nobody's now
    EXPECT_EQ(tracked::live.load() - before, 1);

    auto s = v.load();
    auto t = std::move(s);
    EXPECT_FALSE(s);
    EXPECT_EQ(t->v, 3);
    s = t;  // copy-assigned
    EXPECT_EQ(s, t);
    t = v.load();  // move-assigned over a held snapshot: the old hold ends first
    EXPECT_EQ(t->v, 3);
    EXPECT_EQ(&*t, s.get());
    std::shared_ptr<const tracked> q = std::move(t);  // the hold moves into the pointer
    EXPECT_FALSE(t);
    EXPECT_EQ(q->v, 3);
    std::vector<std::shared_ptr<const tracked>> kept;
    kept.push_back(v.load());
    EXPECT_EQ(kept.back(), q);
  }
  EXPECT_EQ(tracked::live.load(), before);
}

// A snapshot read in place outlives its atomic_value and the store that
// replaced its value; a copy outlives the snapshot.
WEFT_RUNTIME_TEST(AtomicValue, SnapshotOutlivesItsAtomicValue) {
  weft::atomic_value<int>::snapshot s;
  {
    weft::atomic_value<int> v{7};
    s = v.load();
    v.store(8);
    EXPECT_EQ(*v.load(), 8);  // counted: s holds the home slot
  }
  EXPECT_EQ(*s, 7);
  auto t = s;
  s.reset();
  EXPECT_EQ(*t, 7);
}

// A snapshot taken in one goroutine, handed to another over a channel and
// dropped there (maybe on another worker); its value outlives the stores
// made meanwhile.
WEFT_RUNTIME_TEST(AtomicValue, SnapshotHandedToAnotherGoroutine) {
  // Plain ints, not `tracked`: a value that a worker still names outlives
  // this test, and would be counted in a later test's baseline.
  weft::atomic_value<int> v{0};
  auto ch = weft::make_chan<weft::atomic_value<int>::snapshot>(1);
  weft::wait_group wg;
  wg.go([&] {
    for (int i = 0; i < 50; ++i) {
      auto s = ch.recv();
      ASSERT_TRUE(s.has_value());
      EXPECT_EQ(**s, i);
    }
  });
  for (int i = 0; i < 50; ++i) {
    auto s = v.load();
    v.store(i + 1);
    ch.send(std::move(s));
  }
  wg.wait();
  EXPECT_EQ(*v.load(), 50);
}

// Many snapshots of different values held at once: the first reads in place
// through the thread's home slot, the rest count references; each stays
// valid, and each value goes with its last snapshot.
WEFT_RUNTIME_TEST(AtomicValue, ManySnapshotsAtOnce) {
  const int before = tracked::live.load();
  {
    weft::atomic_value<tracked> v{tracked{0}};
    std::vector<std::shared_ptr<const tracked>> held;
    for (int i = 0; i < 40; ++i) {
      held.push_back(v.load());
      auto again = v.load();  // a second load of the same value, while held
      EXPECT_EQ(again.get(), held.back().get());
      v.store(tracked{i + 1});
    }
    for (int i = 0; i < 40; ++i) EXPECT_EQ(held[i]->v, i);
    EXPECT_EQ(tracked::live.load() - before, 41);
    held.clear();
    EXPECT_EQ(tracked::live.load() - before, 1);
  }
  EXPECT_EQ(tracked::live.load(), before);
}

// A snapshot dropped on another thread: the loading thread's slot still
// names the value, so it stays until that thread moves on (here, its next
// store clears its idle names and frees it).
WEFT_RUNTIME_TEST(AtomicValue, SnapshotDroppedOnAnotherThread) {
  const int before = tracked::live.load();
  {
    weft::atomic_value<tracked> v{tracked{1}};
    auto snap = v.load();
    v.store(tracked{2});
    EXPECT_EQ(tracked::live.load() - before, 2);
    std::thread([s = std::move(snap)]() mutable {
      EXPECT_EQ(s->v, 1);
      s.reset();
    }).join();
    EXPECT_EQ(tracked::live.load() - before, 2);  // still named here
    v.store(tracked{3});
    EXPECT_EQ(tracked::live.load() - before, 1);
    EXPECT_EQ(v.load()->v, 3);
  }
  EXPECT_EQ(tracked::live.load(), before);
}

// Concurrent compare_and_swap increments: none is lost.
WEFT_RUNTIME_TEST(AtomicValue, ConcurrentCasCounter) {
  weft::atomic_value<int> v{0};
  weft::wait_group wg;
  for (int g = 0; g < 4; ++g)
    wg.go([&] {
      for (int i = 0; i < 250; ++i) {
        for (;;) {
          int cur = *v.load();
          if (v.compare_and_swap(cur, cur + 1)) break;
          weft::yield();
        }
      }
    });
  wg.wait();
  EXPECT_EQ(*v.load(), 1000);
}
