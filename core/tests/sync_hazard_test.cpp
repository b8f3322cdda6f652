// weft/detail/hazard.hpp: the slot bookkeeping under atomic_value's borrow,
// tested on bare sources. A writer here is "unlink, then hazard_retire"; a
// node it frees goes through note_freed, so each test can see whether a node
// a hold still reads was freed under it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>
#include <weft/weft.hpp>

namespace {

using namespace weft::detail;

std::mutex freed_mu;
std::vector<void*> freed;
void note_freed(void* p) {
  std::lock_guard l(freed_mu);
  freed.push_back(p);
}
bool was_freed(const void* p) {
  std::lock_guard l(freed_mu);
  return std::find(freed.begin(), freed.end(), p) != freed.end();
}

// Unlink src's node for `fresh` and retire it at once (not deferred).
void replace_and_retire(std::atomic<const void*>& src, const void* fresh) {
  void* old = const_cast<void*>(src.exchange(fresh, std::memory_order_seq_cst));
  hazard_retire(old, &note_freed);
}

// Two sources with the same home slot, so that the second must rename the
// slot the first one's borrows read through, or move to another.
struct two_sources {
  std::array<std::atomic<const void*>, 2 * hazard_record::nslots> pool{};
  std::atomic<const void*>* a = &pool[0];
  std::atomic<const void*>* b = nullptr;
  two_sources() {
    for (auto& s : pool)
      if (&s != a && hazard_home(&s) == hazard_home(a)) {
        b = &s;
        break;
      }
  }
};

// Nodes: any distinct addresses (never dereferenced here). A test's nodes
// may sit where an earlier test's were freed: they forget those frees.
struct nodes {
  int n[4] = {};
  nodes() {
    std::lock_guard l(freed_mu);
    std::erase_if(freed, [&](void* p) { return p >= static_cast<void*>(&n[0]) && p <= static_cast<void*>(&n[3]); });
  }
  const void* operator[](int i) const { return &n[i]; }
};

}  // namespace

// A borrow that hits takes the slot's primary mark and ends with a single
// store; a second borrow of the same node while it lasts is a counted one.
TEST(Hazard, RepeatBorrowIsShortAndNestedOneIsCounted) {
  two_sources s;
  nodes n;
  s.a->store(n[0]);
  const hazard_borrowed first = hazard_borrow(*s.a);  // publishes
  ASSERT_EQ(first.node, n[0]);
  EXPECT_NE(first.hold & hazard_published, 0u);
  EXPECT_EQ(first.hold & hazard_short, 0u);
  hazard_end(first, /*sticky=*/true);

  const hazard_borrowed outer = hazard_borrow(*s.a);  // the name stayed: a hit
  ASSERT_EQ(outer.node, n[0]);
  EXPECT_NE(outer.hold & hazard_short, 0u);
  const hazard_borrowed inner = hazard_borrow(*s.a);  // primary taken: counted
  ASSERT_EQ(inner.node, n[0]);
  EXPECT_EQ(inner.hold & (hazard_short | hazard_primary | hazard_published), 0u);
  EXPECT_EQ(hazard_slot_of(outer.hold), hazard_slot_of(inner.hold));
  hazard_end(inner, true);
  hazard_end(outer, true);
}

// The primary hold ends first; the counted one still reads the node, so the
// slot may be neither renamed by another borrow nor cleared by a store, and
// a writer's scan must keep the node.
TEST(Hazard, NestedHoldOutlivesThePrimaryOne) {
  two_sources s;
  ASSERT_NE(s.b, nullptr);
  nodes n;
  s.a->store(n[0]);
  s.b->store(n[1]);
  hazard_end(hazard_borrow(*s.a), true);  // name n[0] in the home slot
  const hazard_borrowed primary = hazard_borrow(*s.a);
  const hazard_borrowed nested = hazard_borrow(*s.a);
  hazard_end(primary, true);

  const hazard_borrowed other = hazard_borrow(*s.b);  // same home, still active
  ASSERT_EQ(other.node, n[1]);
  EXPECT_NE(hazard_slot_of(other.hold), hazard_slot_of(nested.hold));
  hazard_end(other, true);

  replace_and_retire(*s.a, n[2]);  // clears this thread's idle names first
  EXPECT_FALSE(was_freed(n[0]));
  hazard_end(nested, true);
  replace_and_retire(*s.b, n[3]);  // the slot is idle now: n[0] goes
  EXPECT_TRUE(was_freed(n[0]));
  EXPECT_TRUE(was_freed(n[1]));
}

// A goroutine may end its borrow on another thread: the short hold's store
// lands in the owner's record, and until it does the node stays.
TEST(Hazard, PrimaryHoldEndedOnAnotherThread) {
  two_sources s;
  nodes n;
  s.a->store(n[0]);
  hazard_end(hazard_borrow(*s.a), true);
  const hazard_borrowed h = hazard_borrow(*s.a);
  ASSERT_NE(h.hold & hazard_short, 0u);

  const hazard_borrowed nested = hazard_borrow(*s.a);  // counted while primary is away
  EXPECT_EQ(nested.hold & hazard_short, 0u);
  hazard_end(nested, true);

  replace_and_retire(*s.a, n[1]);  // held: kept
  EXPECT_FALSE(was_freed(n[0]));
  std::thread([&] { hazard_end(h, true); }).join();
  replace_and_retire(*s.a, n[2]);  // our idle name is cleared, n[0] and n[1] go
  EXPECT_TRUE(was_freed(n[0]));
  EXPECT_TRUE(was_freed(n[1]));

  // The mark is clear again: the next borrow is a hit with a short hold.
  hazard_end(hazard_borrow(*s.a), true);
  const hazard_borrowed again = hazard_borrow(*s.a);
  EXPECT_NE(again.hold & hazard_short, 0u);
  hazard_end(again, true);
  replace_and_retire(*s.a, n[3]);
}

// A thread that never borrowed reads the shared empty record: its first
// borrow adopts a record of its own and the empty one stays unnamed.
TEST(Hazard, FirstBorrowOfAThreadAdoptsARecord) {
  nodes n;
  std::atomic<const void*> src{n[0]};
  std::thread([&] {
    EXPECT_EQ(hazard_tls(), &hazard_no_record);
    const hazard_borrowed h = hazard_borrow(src);
    EXPECT_EQ(h.node, n[0]);
    EXPECT_NE(hazard_tls(), &hazard_no_record);
    hazard_end(h, true);
  }).join();
  for (auto& slot : hazard_no_record.slot) EXPECT_EQ(slot.load(), nullptr);
  for (auto& key : hazard_no_record.key) EXPECT_EQ(key.load(), 0u);
  // The exited thread's record is given up with its idle name cleared: n[0]
  // is freed at once.
  void* old = const_cast<void*>(src.exchange(n[1], std::memory_order_seq_cst));
  hazard_retire(old, &note_freed);
  EXPECT_TRUE(was_freed(n[0]));
}

// A snapshot hold (atomic_value::load) uses the home slot only: a hit or a
// renaming of an idle home gives a short, sticky hold; a home that another
// hold still reads gives none (the caller counts a reference), so a thread
// never has more snapshot holds than slots however many snapshots it keeps.
TEST(Hazard, SnapshotHoldsOnlyTheHomeSlot) {
  two_sources s;
  nodes n;
  s.a->store(n[0]);
  s.b->store(n[1]);
  const hazard_borrowed first = hazard_snapshot(*s.a);  // names n[0] in home
  ASSERT_NE(first.hold & hazard_short, 0u);
  EXPECT_EQ(first.node, n[0]);
  EXPECT_EQ(hazard_slot_of(first.hold), hazard_home(s.a));
  EXPECT_EQ(hazard_snapshot(*s.a).hold, 0u);  // nested: no second hold
  EXPECT_EQ(hazard_snapshot(*s.b).hold, 0u);  // home still read: no other slot
  hazard_end(first, /*sticky=*/true);

  const hazard_borrowed hit = hazard_snapshot(*s.a);  // the name stayed
  EXPECT_EQ(hit.hold, first.hold);
  hazard_end(hit, true);
  const hazard_borrowed other = hazard_snapshot(*s.b);  // home idle: renamed
  ASSERT_NE(other.hold & hazard_short, 0u);
  EXPECT_EQ(other.node, n[1]);
  replace_and_retire(*s.a, n[2]);  // nobody names n[0] any more
  EXPECT_TRUE(was_freed(n[0]));
  replace_and_retire(*s.b, n[3]);  // held: kept
  EXPECT_FALSE(was_freed(n[1]));
  hazard_end(other, true);
  replace_and_retire(*s.a, n[0]);  // our idle name goes first: n[1] too
  EXPECT_TRUE(was_freed(n[1]));
}

// The last reader of a retired node frees it when its hold ends, if the
// writer flagged it and no slot names it any more; a hold ended on another
// thread leaves the owner's name, and the node stays until that goes.
TEST(Hazard, LetGoFreesARetiredNodeOnceUnnamed) {
  two_sources s;
  nodes n;
  s.a->store(n[0]);
  std::atomic<bool> flag{false};
  const hazard_borrowed h = hazard_snapshot(*s.a);
  ASSERT_NE(h.hold, 0u);
  void* old = const_cast<void*>(s.a->exchange(n[1], std::memory_order_seq_cst));
  hazard_retire(old, &note_freed, false, &flag);
  EXPECT_TRUE(flag.load());  // named: listed and flagged
  EXPECT_FALSE(was_freed(n[0]));
  hazard_end(h, true);
  hazard_let_go(n[0], h.hold);  // our own idle name goes, then n[0]
  EXPECT_TRUE(was_freed(n[0]));

  std::atomic<bool> flag2{false};
  const hazard_borrowed g = hazard_snapshot(*s.a);  // names n[1]
  ASSERT_EQ(g.node, n[1]);
  old = const_cast<void*>(s.a->exchange(n[2], std::memory_order_seq_cst));
  hazard_retire(old, &note_freed, false, &flag2);
  EXPECT_TRUE(flag2.load());
  std::thread([&] {
    hazard_end(g, true);
    hazard_let_go(n[1], g.hold);  // not this thread's name: it stays
  }).join();
  EXPECT_FALSE(was_freed(n[1]));
  replace_and_retire(*s.a, n[3]);  // our idle name is cleared, n[1] and n[2] go
  EXPECT_TRUE(was_freed(n[1]));
  EXPECT_TRUE(was_freed(n[2]));
}

// A hit trusts the slot's key, so every renaming or clearing of a slot must
// clear its key too: here a store clears this thread's idle name of n[0] and
// frees it, and n[0]'s address comes back as src's node (as a reused
// allocation would). The next borrow must name it again (a published, full
// hold), not take it as still named.
TEST(Hazard, AddressReusedAfterAStoreClearedTheNameIsNamedAgain) {
  two_sources s;
  nodes n;
  s.a->store(n[0]);
  hazard_end(hazard_borrow(*s.a), true);  // n[0] named, idle
  replace_and_retire(*s.a, n[1]);         // our idle name cleared: n[0] freed
  ASSERT_TRUE(was_freed(n[0]));
  s.a->store(n[0]);  // the address again
  const hazard_borrowed h = hazard_borrow(*s.a);
  ASSERT_EQ(h.node, n[0]);
  EXPECT_NE(h.hold & hazard_published, 0u);
  EXPECT_EQ(hazard_record_of(h.hold)->slot[hazard_slot_of(h.hold)].load(), n[0]);
  hazard_end(h, true);
  replace_and_retire(*s.a, n[2]);
}

// A published hold (full encoding) ended on another thread gives the slot's
// key back as a short one does: the owner's next borrow of the node is a
// hit, and a store while the hold lasted kept the node.
TEST(Hazard, PublishedHoldEndedOnAnotherThreadGivesTheKeyBack) {
  two_sources s;
  nodes n;
  s.a->store(n[0]);
  const hazard_borrowed first = hazard_borrow(*s.a);  // publishes
  ASSERT_NE(first.hold & hazard_published, 0u);
  const hazard_borrowed nested = hazard_borrow(*s.a);  // the primary hold is taken: counted
  EXPECT_EQ(nested.hold & hazard_short, 0u);
  std::thread([&] { hazard_end(first, true); }).join();
  hazard_end(nested, true);
  const hazard_borrowed hit = hazard_borrow(*s.a);
  EXPECT_NE(hit.hold & hazard_short, 0u);
  EXPECT_EQ(hit.node, n[0]);
  hazard_end(hit, true);
  replace_and_retire(*s.a, n[1]);
  EXPECT_TRUE(was_freed(n[0]));
}
