// Hazard slots: how atomic_value's readers read a value in place without a
// reference count. Go's atomic.Value.Load is two plain loads because the
// garbage collector keeps the value alive; here a slot private to the reading
// thread names the node being read, and a store frees the node it replaced
// unless some slot names it (Michael's hazard pointers).
//
// Publishing a name (Dekker's, on two locations):
//   reader: s.exchange(p); q = src; retry with q until q == p
//   writer: old = src.exchange(new); read every slot; free old unless named,
//           else retire it: a later writer's scan frees it once unnamed.
// Both sides' first step is a seq_cst read-modify-write and their second a
// seq_cst load, so either the scan sees the name or the reader's re-check
// sees the new src and moves on. Once published, a name protects its node
// for as long as it stays in the slot, whatever the ordering of later reads.
//
// Sticky names (borrow, load): a read that finds its slot already naming
// src's current node reads it without publishing (no read-modify-write, no
// fence; only the slot's key below), and the name stays after the read
// ends, for the next one. The price: a replaced value that a thread's idle
// slot still names is freed only by a store after that thread renames the
// slot (reading another value), stores itself (a store first clears its
// own thread's idle names) or exits — at most one value per slot — and then
// within hazard_deferred_scan stores (see hazard_retire). A retired node's
// last hold to end frees it at once if nothing names it (hazard_let_go).
//
// Records (4 slots each): one per thread, never freed: a thread that exits
// clears its idle names and gives its record up for another to adopt. Line
// 1 holds the slots, which writers scan; line 2 the keys and counts that say
// which slots borrows read through, which only the reading threads touch, so
// a borrow that hits reads and writes that line alone.
//
// A slot is "active" while borrows read through it, and an active slot is
// never renamed. Two ways to count them:
//  - the primary hold, one per slot, told by `key[i]`: the slot's name (a
//    copy of slot[i], null if unnamed) while the hold is free, key_held while
//    a borrow has it. A borrow whose node equals the key takes it (stores
//    key_held), and its end gives the name back (stores the node), from
//    whichever thread it ends on: while it is taken nobody else writes it.
//    So the hit tests "named" and "free" with one load and one compare, and
//    two plain stores with no load-add-store chain from one borrow to the
//    next are all it writes (Go's Load is loads and tests only). The owner
//    keeps every free key equal to its slot: whatever renames or clears a
//    slot sets its key too, or an address reused for a new node would match
//    a name no longer published.
//  - nested holds (primary hold taken: a borrow inside a borrow, or one
//    held across a park while another goroutine of the thread borrows) count
//    in `acquired` / `released`, which only the owner writes; one ended on
//    another thread (its goroutine resumed elsewhere) counts in
//    `released_remote`, a read-modify-write.
// Every ending store is a release, and whoever reads a key or a count
// before taking it or renaming the slot reads with acquire: the reads of a
// borrow happen before the node can be freed, even between goroutines of
// one thread.
// A thread whose slots are all active borrows through a spare record of its
// own, unnamed when that borrow ends.
//
// Snapshot holds (atomic_value::load): a primary hold of the home slot whose
// end is a shared_ptr's last release, hours later perhaps. Lines 3-6 hold one
// control-block buffer per slot, which the slot's primary holder alone
// uses: the block is built by the owner when it takes the hold, and the
// key's giving back (a release, after the block is destroyed) hands it back.
// Only the home slot takes such holds, never a spare record, so a thread
// keeps at most nslots of them whatever its snapshots live (see
// hazard_snapshot).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "weft/detail/config.hpp"

namespace weft::detail {

struct alignas(128) hazard_record {
  static constexpr int nslots = 4;  // a power of two; the counts fit one line
  // What key[i] holds while slot i's primary hold is taken (never a node's
  // address).
  static constexpr std::uintptr_t key_held = 1;
  // Line 1: scanned by writers (and the count that other threads' ends of
  // nested holds add to, rarely).
  std::atomic<const void*> slot[nslots] = {};
  hazard_record* next = nullptr;  // the list of every record; set before it is published
  std::atomic<bool> owned{false};
  std::atomic<std::uint32_t> released_remote[nslots] = {};
  // Line 2: the keys (slot i's name while its primary hold is free, null if
  // unnamed; key_held while taken), then the nested holds' counts.
  alignas(64) std::atomic<std::uintptr_t> key[nslots] = {};
  std::atomic<std::uint32_t> acquired[nslots] = {};
  std::atomic<std::uint32_t> released[nslots] = {};
  // Lines 3-6: slot i's snapshot control block (see above).
  static constexpr std::size_t snapshot_block_size = 64;
  alignas(64) unsigned char snapshot_block[nslots][snapshot_block_size] = {};

  bool primary_taken(int i) const noexcept { return key[i].load(std::memory_order_acquire) == key_held; }
  bool active(int i) const noexcept {
    if (primary_taken(i)) return true;
    return acquired[i].load(std::memory_order_relaxed) - released[i].load(std::memory_order_acquire) -
               released_remote[i].load(std::memory_order_acquire) !=
           0;
  }
  // The owner names p in slot i's key (null: unnamed), while the primary
  // hold is free.
  void set_key(int i, const void* p) noexcept {
    key[i].store(reinterpret_cast<std::uintptr_t>(p), std::memory_order_relaxed);
  }
  void count_acquire(int i) noexcept {
    acquired[i].store(acquired[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // The owner's end of a nested hold (see above for the release).
  void count_release(int i) noexcept {
    released[i].store(released[i].load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
};

// What a thread that has not borrowed yet reads as its record: no slot named,
// so a borrow misses and adopts a real one; never written.
extern hazard_record hazard_no_record;

}  // namespace weft::detail

// This thread's record, &hazard_no_record before its first use (C linkage:
// the inline reader names it in assembly). __thread, not thread_local: no
// dynamic initialisation, no TLS wrapper call.
extern "C" __thread weft::detail::hazard_record* weft_tls_hazard_record __attribute__((tls_model("initial-exec")));

namespace weft::detail {

// This thread's record. A goroutine may resume on another thread between two
// borrows, and a TLS address the compiler computed before the switch would
// still name the old thread's record; so the thread pointer is read afresh
// each time (volatile assembly on x86-64, an out-of-line call elsewhere).
// Under TSan the call is uninstrumented: goroutines are TSan fibers, and
// fibers sharing a thread's TLS would be reported as racing.
hazard_record* hazard_tls_slow() noexcept;
inline hazard_record* hazard_tls() noexcept {
  hazard_record* r;
#if defined(__x86_64__) && !WEFT_TSAN
  asm volatile(
      "movq weft_tls_hazard_record@gottpoff(%%rip), %0\n\t"
      "movq %%fs:(%0), %0"
      : "=r"(r));
#else
  r = hazard_tls_slow();
#endif
  // Stated so that the compiler sees a hit's hold is short (bit 6 of a
  // key's address, below): a borrow then ends with one store and no test
  // of the encoding, as a snapshot does (BorrowAlone 1.14 -> 0.90 ns here).
  return static_cast<hazard_record*>(__builtin_assume_aligned(r, alignof(hazard_record)));
}

hazard_record* hazard_adopt_record() noexcept;

// A hold on a node: which slot names it, in one word (so that a borrow's
// guard lives in registers), 0 for nothing. Two encodings, told apart by
// bit 6 (records are 128-byte aligned, and line 2 starts at byte 64):
//  - short: the address of the slot's key, for a primary hold that is
//    neither spare nor published (every hit): its end is one store through
//    it, of the node's address;
//  - full: the record's address with the slot index and three flags in
//    bits 0-5.
using hazard_hold = std::uintptr_t;
inline constexpr hazard_hold hazard_index_mask = 7;
inline constexpr hazard_hold hazard_spare = 8;       // a spare record, given up when the hold ends
inline constexpr hazard_hold hazard_published = 16;  // this hold named the node (no name was there)
inline constexpr hazard_hold hazard_primary = 32;    // the slot's primary hold (else counted)
inline constexpr hazard_hold hazard_short = 64;      // the short encoding
static_assert(hazard_record::nslots <= 8 && alignof(hazard_record) == 128);
static_assert(offsetof(hazard_record, key) == hazard_short);

inline hazard_record* hazard_record_of(hazard_hold h) noexcept {
  return reinterpret_cast<hazard_record*>(h & ~hazard_hold{alignof(hazard_record) - 1});
}
// The slot of a hold known to be short (no test of the encoding).
inline int hazard_short_slot(hazard_hold h) noexcept {
  return static_cast<int>((h & (hazard_short - 1)) / sizeof(std::atomic<std::uintptr_t>));
}
inline int hazard_slot_of(hazard_hold h) noexcept {
  if ((h & hazard_short) != 0) return hazard_short_slot(h);
  return static_cast<int>(h & hazard_index_mask);
}
// A hold of slot i; a short one when flags are hazard_primary alone.
inline hazard_hold hazard_make_hold(hazard_record* r, int i, hazard_hold flags) noexcept {
  if (flags == hazard_primary) return reinterpret_cast<hazard_hold>(&r->key[i]);
  return reinterpret_cast<hazard_hold>(r) | static_cast<hazard_hold>(i) | flags;
}

// The home slot of a source: borrows of one atomic_value keep finding their
// name in the same slot.
inline int hazard_home(const void* src) noexcept {
  return static_cast<int>((reinterpret_cast<std::uintptr_t>(src) >> 4) % hazard_record::nslots);
}

struct hazard_borrowed {
  const void* node;  // what src held (never null: see hazard_borrow_inline)
  hazard_hold hold;
};

// Out of line: name src's current node in an inactive slot of this thread's
// record (the home slot first), or of a spare record. A borrow that names the
// node (no slot did) sets *named_mark, if given: the owner's "borrowed" mark
// (see hazard_retire's defer), which the hit path need not test.
hazard_borrowed hazard_borrow_slow(const std::atomic<const void*>& src, std::atomic<bool>* named_mark) noexcept;
void hazard_end_slow(hazard_hold hold, const void* node, bool sticky) noexcept;

// The hit shared by borrow and snapshot: src's current node is already named
// in this thread's home slot and its primary hold is free, which the slot's
// key says in one word; take the hold. src never holds null (an empty
// atomic_value points at atomic_value_empty): an unnamed slot's key is null,
// and must not match.
inline bool hazard_hit(const std::atomic<const void*>& src, hazard_borrowed& out) noexcept {
  hazard_record* r = hazard_tls();
  const void* p = src.load(std::memory_order_acquire);
  const int i = hazard_home(&src);
  // Named already: protected since it was published. The key is read with
  // acquire: a hold ended on another thread gave it back with a release, and
  // this thread's later renaming must come after that hold's reads (our own
  // stores to the key would not carry the edge).
  if (WEFT_LIKELY(r->key[i].load(std::memory_order_acquire) == reinterpret_cast<std::uintptr_t>(p))) {
    r->key[i].store(hazard_record::key_held, std::memory_order_relaxed);
    out = {p, hazard_make_hold(r, i, hazard_primary)};
    return true;
  }
  return false;
}

// Hold src's current node.
inline hazard_borrowed hazard_borrow_inline(const std::atomic<const void*>& src,
                                            std::atomic<bool>* named_mark = nullptr) noexcept {
  hazard_borrowed h;
  if (WEFT_LIKELY(hazard_hit(src, h))) return h;
  return hazard_borrow_slow(src, named_mark);
}

// A short hold's end, on node: the key's release store gives the slot's
// name back.
inline void hazard_end_short_inline(hazard_hold hold, const void* node) noexcept {
  reinterpret_cast<std::atomic<std::uintptr_t>*>(hold)->store(reinterpret_cast<std::uintptr_t>(node),
                                                               std::memory_order_release);
}

// End a hold. sticky (borrow): the name stays for the next borrow. Not
// sticky (load, compare-and-swap): a name this hold published is taken back
// once no other hold reads through the slot.
inline void hazard_end_inline(const hazard_borrowed& h, bool sticky) noexcept {
  // A short hold, ended on any thread: nobody else writes the key while the
  // hold is taken, and it published nothing to take back.
  if (WEFT_LIKELY((h.hold & hazard_short) != 0)) {
    hazard_end_short_inline(h.hold, h.node);
    return;
  }
  if (h.hold != 0) hazard_end_slow(h.hold, h.node, sticky);
}

// The snapshot hold (atomic_value::load): a primary hold of src's current
// node in the home slot, which stays named after it ends (sticky), returned
// in the short encoding; or hold 0 when the home slot is taken by another
// hold (nested, or another node still read), and the caller copies a
// reference count instead. Never a spare record or another slot: a thread
// never has more snapshot holds than slots, however many snapshots it keeps.
hazard_borrowed hazard_snapshot_slow(const std::atomic<const void*>& src) noexcept;
inline hazard_borrowed hazard_snapshot_inline(const std::atomic<const void*>& src) noexcept {
  hazard_borrowed h;
  if (WEFT_LIKELY(hazard_hit(src, h))) return h;
  return hazard_snapshot_slow(src);
}
// The control-block buffer of a short hold's slot.
inline void* hazard_snapshot_block(hazard_hold short_hold) noexcept {
  return hazard_record_of(short_hold)->snapshot_block[hazard_short_slot(short_hold)];
}

// p was retired while some slot named it (hazard_retire set its flag) and a
// hold that read it has ended: take back this thread's idle names (p's among
// them), if the hold was this thread's, and free p now if no slot names it
// any more (its last reader letting go, rather than the next store, frees it).
void hazard_let_go(const void* p, hazard_hold ended) noexcept;

#if WEFT_TSAN
// Under TSan the bookkeeping above runs where TSan sees no synchronisation
// (it would order unrelated borrowers through the counts and slots); the one
// edge that matters, every read of a node before its free, is stated on the
// node's address instead.
hazard_borrowed hazard_borrow_tsan(const std::atomic<const void*>& src, std::atomic<bool>* named_mark) noexcept;
void hazard_end_tsan(const hazard_borrowed& h, bool sticky) noexcept;
hazard_borrowed hazard_snapshot_tsan(const std::atomic<const void*>& src) noexcept;
#endif

inline hazard_borrowed hazard_borrow(const std::atomic<const void*>& src,
                                     std::atomic<bool>* named_mark = nullptr) noexcept {
#if WEFT_TSAN
  return hazard_borrow_tsan(src, named_mark);
#else
  return hazard_borrow_inline(src, named_mark);
#endif
}

// End a short, sticky hold on node (every snapshot hold), with no test of
// its kind.
inline void hazard_end_short(hazard_hold hold, const void* node) noexcept {
#if WEFT_TSAN
  hazard_end_tsan({node, hold}, /*sticky=*/true);
#else
  hazard_end_short_inline(hold, node);
#endif
}

inline hazard_borrowed hazard_snapshot(const std::atomic<const void*>& src) noexcept {
#if WEFT_TSAN
  return hazard_snapshot_tsan(src);
#else
  return hazard_snapshot_inline(src);
#endif
}

inline void hazard_end(const hazard_borrowed& h, bool sticky) noexcept {
#if WEFT_TSAN
  hazard_end_tsan(h, sticky);
#else
  hazard_end_inline(h, sticky);
#endif
}

// The writer's side, after a seq_cst exchange unlinked p from its source:
// clear this thread's idle names, then free p with del(p) once no slot names
// it (user code in del runs outside the runtime). Not deferred: scan now and
// free p unless a reader holds it. Deferred (p was borrowed, so sticky names
// of it are likely): queue p and scan only every hazard_deferred_scan-th
// deferred retire. A scan reads every reader's slot line, and the reader's
// next publish must take that line back: scanning on every store of a value
// that is stored about once a microsecond made each borrow after a store
// cost one more cross-core miss.
// retired_flag, if given, is set (release, while p is still the caller's)
// when a scan finds p named and lists it: a hold that reads it set may free
// p when it ends (hazard_let_go). A deferred p is not flagged (it waits for
// a scan in any case).
inline constexpr int hazard_deferred_scan = 16;
void hazard_retire(void* p, void (*del)(void*), bool defer = false, std::atomic<bool>* retired_flag = nullptr) noexcept;

}  // namespace weft::detail
