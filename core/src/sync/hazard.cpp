// Hazard slots, the writer's side and the record registry (protocol in
// weft/detail/hazard.hpp).
//
// Invariants:
//  - records are pushed onto g_records and never removed or freed, so a scan
//    may walk the list without a lock;
//  - a record's slots and own counts change only in the thread that owns it
//    (owned is true), and so does a key, except while its primary hold is
//    taken: then only the thread that ends that hold writes it (giving the
//    slot's name back); a key whose hold is free always equals its slot;
//  - ownership passes from an exiting thread, or from a finished spare
//    borrow, to whichever thread claims the record next;
//  - g_retired_lock guards g_retired, the nodes unlinked while some slot
//    named them; every hazard_retire rescans them, so each is freed by the
//    first retire after its last reader lets go.
#include "weft/detail/hazard.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/lock.hpp"
#include "runtime/sanitizers.hpp"

namespace weft::detail {
constinit hazard_record hazard_no_record;
}

extern "C" {
__thread weft::detail::hazard_record* weft_tls_hazard_record = &weft::detail::hazard_no_record;
}

namespace weft::detail {

WEFT_NOINLINE WEFT_NO_TSAN hazard_record* hazard_tls_slow() noexcept { return weft_tls_hazard_record; }

namespace {

static_assert(sizeof(hazard_record) == 384, "a record: slots, keys and counts, then the snapshot blocks");

std::atomic<hazard_record*> g_records{nullptr};

struct retired {
  void* p;
  void (*del)(void*);
};
spin_lock g_retired_lock;
std::vector<retired>& g_retired() {
  static auto* v = new std::vector<retired>;  // outlives every static destructor
  return *v;
}
std::atomic<std::size_t> g_nretired{0};
int g_deferred = 0;  // deferred retires since the last scan (under g_retired_lock)

WEFT_NOINLINE WEFT_NO_TSAN void set_tls(hazard_record* r) noexcept { weft_tls_hazard_record = r; }

// The owner unnames every slot no borrow reads through.
void clear_idle_names(hazard_record* r) noexcept {
  for (int i = 0; i < hazard_record::nslots; ++i)
    if (r->slot[i].load(std::memory_order_relaxed) != nullptr && !r->active(i)) {
      r->set_key(i, nullptr);
      r->slot[i].store(nullptr, std::memory_order_release);
    }
}

// Gives this thread's record up when the thread exits, its idle names
// cleared (a borrow still held elsewhere keeps its slot named).
struct record_release {
  hazard_record* r = nullptr;
  ~record_release() {
    if (r != nullptr) {
      clear_idle_names(r);
      r->owned.store(false, std::memory_order_release);
    }
    set_tls(&hazard_no_record);
  }
};

int inactive_slot(const hazard_record* r, int from) noexcept {
  for (int k = 0; k < hazard_record::nslots; ++k) {
    const int i = (from + k) % hazard_record::nslots;
    if (!r->active(i)) return i;
  }
  return -1;
}

// An unowned record with an inactive slot, now owned by the caller; or a new
// one.
hazard_record* claim_record() noexcept {
  for (hazard_record* r = g_records.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    if (r->owned.load(std::memory_order_relaxed)) continue;
    bool expected = false;
    if (!r->owned.compare_exchange_strong(expected, true, std::memory_order_acquire)) continue;
    if (inactive_slot(r, 0) >= 0) return r;
    r->owned.store(false, std::memory_order_release);  // every slot held by borrows that migrated
  }
  auto* r = new hazard_record;
  r->owned.store(true, std::memory_order_relaxed);
  // seq_cst: a writer whose scan missed this push is ordered before our
  // first slot exchange, so that borrow's re-check sees its store.
  hazard_record* head = g_records.load(std::memory_order_relaxed);
  do {
    r->next = head;
  } while (!g_records.compare_exchange_weak(head, r, std::memory_order_seq_cst, std::memory_order_relaxed));
  return r;
}

// Slot i names p already: take its primary hold if it is free (the key,
// read with acquire as the inline reader does, still names p); false if
// another hold has it.
bool take_primary(hazard_record* r, int i, const void* p) noexcept {
  if (r->key[i].load(std::memory_order_acquire) != reinterpret_cast<std::uintptr_t>(p)) return false;
  r->key[i].store(hazard_record::key_held, std::memory_order_relaxed);
  return true;
}

// Name src's current node in r's slot i (the protocol in the header).
hazard_borrowed publish(hazard_record* r, int i, const std::atomic<const void*>& src, hazard_hold flags) noexcept {
  const void* p = src.load(std::memory_order_acquire);
  for (;;) {
    r->slot[i].exchange(p, std::memory_order_seq_cst);
    const void* q = src.load(std::memory_order_seq_cst);
    if (q == p) break;
    p = q;
  }
  // The slot was inactive: its primary hold is free, and ours now.
  r->key[i].store(hazard_record::key_held, std::memory_order_relaxed);
  return {p, hazard_make_hold(r, i, flags | hazard_published | hazard_primary)};
}

// Uninstrumented for the reason hazard_tls_slow is.
WEFT_NOINLINE WEFT_NO_TSAN void release_at_exit(hazard_record* r) noexcept {
  static thread_local record_release release;
  release.r = r;
}

}  // namespace

hazard_record* hazard_adopt_record() noexcept {
  hazard_record* r = claim_record();
  release_at_exit(r);
  set_tls(r);
  return r;
}

hazard_borrowed hazard_borrow_slow(const std::atomic<const void*>& src, std::atomic<bool>* named_mark) noexcept {
  hazard_record* r = hazard_tls();
  if (r == &hazard_no_record) r = hazard_adopt_record();
  const void* p = src.load(std::memory_order_acquire);
  if (p == nullptr) return {nullptr, 0};  // not atomic_value's (never null): hold nothing
  // Named already: in home with its primary hold taken (a nested hold), or
  // in another slot (home was active when it was named).
  for (int i = 0; i < hazard_record::nslots; ++i)
    if (r->slot[i].load(std::memory_order_relaxed) == p) {
      if (take_primary(r, i, p)) return {p, hazard_make_hold(r, i, hazard_primary)};
      r->count_acquire(i);
      return {p, hazard_make_hold(r, i, 0)};
    }
  if (named_mark != nullptr && !named_mark->load(std::memory_order_relaxed))
    named_mark->store(true, std::memory_order_relaxed);
  const int i = inactive_slot(r, hazard_home(&src));
  if (i >= 0) return publish(r, i, src, 0);
  hazard_record* spare = claim_record();
  return publish(spare, inactive_slot(spare, 0), src, hazard_spare);
}

hazard_borrowed hazard_snapshot_slow(const std::atomic<const void*>& src) noexcept {
  hazard_record* r = hazard_tls();
  if (r == &hazard_no_record) r = hazard_adopt_record();
  const int i = hazard_home(&src);
  const void* p = src.load(std::memory_order_acquire);
  if (r->slot[i].load(std::memory_order_relaxed) == p) {
    if (!take_primary(r, i, p)) return {nullptr, 0};  // nested: count a reference
    return {p, hazard_make_hold(r, i, hazard_primary)};
  }
  // Home reads another node: a long snapshot of it, or a borrow.
  if (r->active(i)) return {nullptr, 0};
  const hazard_borrowed h = publish(r, i, src, 0);
  return {h.node, hazard_make_hold(r, i, hazard_primary)};  // sticky: nothing to take back at the end
}

void hazard_let_go(const void* p, hazard_hold ended) noexcept {
  retired victim{};
  {
    runtime_section rs;
    // Our own idle names go (p's among them), as a store's do.
    hazard_record* r = hazard_tls();
    if (r == hazard_record_of(ended)) clear_idle_names(r);
    // Under the lock, so that nobody frees p (and reuses its address for a
    // node retired while named) between the test and the erase.
    lock_guard l(g_retired_lock);
    auto& list = g_retired();
    auto it = std::find_if(list.begin(), list.end(), [&](const retired& x) { return x.p == p; });
    if (it == list.end()) return;  // a writer's scan has it, or freed it
    // seq_cst loads: the other half of the reader's Dekker, as in
    // hazard_retire (our caller read the flag, set after the unlinking
    // exchange, with acquire).
    for (hazard_record* q = g_records.load(std::memory_order_seq_cst); q != nullptr; q = q->next)
      for (auto& s : q->slot)
        if (s.load(std::memory_order_seq_cst) == p) return;
    victim = *it;
    *it = list.back();
    list.pop_back();
    g_nretired.store(list.size(), std::memory_order_relaxed);
  }
#if WEFT_TSAN
  __tsan_acquire(victim.p);  // every hold of it ended (hazard_end_tsan)
#endif
  victim.del(victim.p);  // user code, outside the runtime section
}

#if WEFT_TSAN
hazard_borrowed hazard_snapshot_tsan(const std::atomic<const void*>& src) noexcept {
  runtime_section rs;
  return hazard_snapshot_inline(src);
}

hazard_borrowed hazard_borrow_tsan(const std::atomic<const void*>& src, std::atomic<bool>* named_mark) noexcept {
  runtime_section rs;
  return hazard_borrow_inline(src, named_mark);
}

void hazard_end_tsan(const hazard_borrowed& h, bool sticky) noexcept {
  if (h.hold == 0) return;
  __tsan_release(const_cast<void*>(h.node));  // paired in hazard_retire, before the free
  runtime_section rs;
  hazard_end_inline(h, sticky);
}
#endif

void hazard_end_slow(hazard_hold hold, const void* node, bool sticky) noexcept {
  // A full hold (short ones end inline).
  hazard_record* r = hazard_record_of(hold);
  const int i = static_cast<int>(hold & hazard_index_mask);
  if ((hold & hazard_spare) != 0) {
    // Whichever thread ends it owns the spare record until then; a spare
    // slot's one hold is the primary one (publish).
    r->set_key(i, nullptr);
    r->slot[i].store(nullptr, std::memory_order_release);
    r->owned.store(false, std::memory_order_release);
    return;
  }
  const bool own = r == hazard_tls();
  if ((hold & hazard_primary) != 0) {
    // The slot's name back (it named node all along); the release orders
    // our reads before the owner's renaming.
    r->key[i].store(reinterpret_cast<std::uintptr_t>(node), std::memory_order_release);
  } else if (!own) {
    // Ended on another thread: the name stays until its owner renames or
    // clears the slot (the release orders our reads before that).
    r->released_remote[i].fetch_add(1, std::memory_order_release);
    return;
  } else {
    r->count_release(i);
  }
  if (own && !sticky && (hold & hazard_published) != 0 && !r->active(i)) {
    r->set_key(i, nullptr);
    r->slot[i].store(nullptr, std::memory_order_release);
  }
}

void hazard_retire(void* p, void (*del)(void*), bool defer, std::atomic<bool>* retired_flag) noexcept {
#if WEFT_TSAN
  // We unlinked p, so its making happens before us; whoever frees it later
  // (a writer's scan, or hazard_let_go) acquires this first. TSan sees no
  // edge through the retired list's lock (runtime sections), and that
  // thread may never have read p: its address may have been reused since
  // the freeing thread's own read.
  {
    user_section us;
    __tsan_release(p);
  }
#endif
  std::vector<retired> to_free;
  {
    runtime_section rs;
    // Our own idle names go first (sticky ones of other values too: those
    // borrows just publish again), so a store frees what this thread read.
    clear_idle_names(hazard_tls());  // hazard_no_record names nothing: a no-op
    if (defer || g_nretired.load(std::memory_order_relaxed) != 0) {
      lock_guard l(g_retired_lock);
      auto& list = g_retired();
      list.push_back({p, del});
      if (defer && ++g_deferred < hazard_deferred_scan) {
        g_nretired.store(list.size(), std::memory_order_relaxed);
        return;
      }
      g_deferred = 0;
      to_free.swap(list);
      g_nretired.store(0, std::memory_order_relaxed);
    } else {
      to_free.push_back({p, del});
    }
    // seq_cst loads: the other half of the reader's Dekker (see the header).
    std::vector<const void*> named;
    for (hazard_record* r = g_records.load(std::memory_order_seq_cst); r != nullptr; r = r->next)
      for (auto& s : r->slot)
        if (const void* v = s.load(std::memory_order_seq_cst)) named.push_back(v);
    std::vector<retired> keep;
    if (!named.empty()) {
      std::sort(named.begin(), named.end());
      auto still_named = [&](const retired& x) { return std::binary_search(named.begin(), named.end(), x.p); };
      for (auto& x : to_free)
        if (still_named(x)) keep.push_back(x);
      std::erase_if(to_free, still_named);
    }
    if (!keep.empty()) {
      // Not while deferred: that node waits for a scan anyway, and the flag
      // is a write to a line its readers are reading.
      if (retired_flag != nullptr && !defer && std::any_of(keep.begin(), keep.end(), [&](const retired& x) { return x.p == p; }))
        // Release: a hold that reads it set (acquire) is ordered after our
        // unlinking exchange, so hazard_let_go's scan is the writer's half
        // of the Dekker protocol as ours is. Not yet on the list: still ours.
        retired_flag->store(true, std::memory_order_release);
      lock_guard l(g_retired_lock);
      auto& list = g_retired();
      list.insert(list.end(), keep.begin(), keep.end());
      g_nretired.store(list.size(), std::memory_order_relaxed);
    }
  }
  // User code (T's destructor) runs here, outside the runtime section.
  for (auto& x : to_free) {
#if WEFT_TSAN
    __tsan_acquire(x.p);  // every borrow of it ended (hazard_end_tsan)
#endif
    x.del(x.p);
  }
}

}  // namespace weft::detail
