// weft::atomic_value<T> — Go's atomic.Value: a value replaced as a whole,
// read without blocking writers.
//
//   weft::atomic_value<config> current{load_config()};
//   auto c = current.load();                   // a snapshot: c->field, *c; never torn
//   current.store(new_config);                 // readers see old or new
//   std::shared_ptr<const config> p = current.load();   // an owning pointer, if you need one
//
// Copy-on-write: the value lives in an immutable shared_ptr<const T>; a store
// publishes a new one, and readers that still hold the old one keep it alive.
// load() returns an empty snapshot before the first store. Storing a null
// pointer throws panic_error with Go's text ("sync/atomic: store of nil value
// into Value" and the swap / compare-and-swap equivalents).
//
// compare_and_swap(old, new) compares values (T's ==), as Go compares the
// interface values; compare_and_swap(nullptr, new) stores only into a
// never-stored value.
//
// Reading: load() returns a snapshot, which reads the value in place and
// keeps it alive until the snapshot is destroyed (it may outlive a store, a
// park or the atomic_value itself, and be copied, moved or dropped on any
// thread). No reference count and no lock, and while the value has not
// changed since this thread last read it, no read-modify-write or fence (a
// plain store marks the hold and another ends it): Go's Load, which the
// garbage collector makes free. This is the arc-swap design (Rust's
// ArcSwap::load returns a guard; load_full an Arc): a std::shared_ptr costs
// a control block's construction and release on every read, about three
// times Go's whole Load (bench/ SharedPtrBuildDrop), so a snapshot becomes one
// only when asked. Converting a temporary snapshot to a shared_ptr builds the
// control block in a buffer of the thread's hazard record: no count that
// other threads touch, so such loads on different cores share no cache line
// (copying one shared_ptr costs an atomic increment and decrement on a line
// every reader writes). Copying a snapshot, or converting one that stays,
// counts a reference.
//
// A thread reads in place through one snapshot per home slot at a time; a
// second snapshot of a value while the first lives, or one whose slot another
// value holds, counts a reference instead. borrow() returns a move-only
// guard that never counts: it takes another slot of the thread (or a spare
// record) when the home slot is busy, for scoped reads that nest.
//
//   auto c = current.borrow();   // c->field, *c; empty before the first store
//
// The price of the cheap repeat: a thread's slot keeps naming the value it
// last read after the read ends. A replaced value is freed by a store that
// finds nobody naming it. One that a thread still names waits until that
// thread moves on (reads another value through the slot, stores, or exits)
// and a store comes: at most one value per slot, 4 per thread. A shared_ptr
// made from a snapshot frees it sooner: its last release takes back its
// thread's name and frees the value if no other thread names it (a
// snapshot's own end is one store, and leaves that to the next store). Once
// an atomic_value has been borrowed, the values it replaces also wait for
// the writers' next scan, at most 16 stores later (hazard_deferred_scan). A
// weak_ptr to a shared_ptr made from a temporary snapshot keeps its hold (and
// so the value) until the weak_ptr goes too.
//
// Implementation: the value is a node holding its shared_ptr<const T> (a
// value stored by value shares the node's allocation), published through one
// atomic pointer, which before the first store points at a shared empty node
// (never null); readers name the node in a hazard slot of their thread
// (weft/detail/hazard.hpp) and a store frees the node it replaced unless
// some slot names it. No lock on either side, and no user code (T's
// destructor or ==) runs inside the runtime.
//
// Happens-before: a store happens before every load that returns its value
// (swap and compare_and_swap are both a load and a store).
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "weft/detail/hazard.hpp"
#include "weft/detail/kernel.hpp"

namespace weft {

namespace detail {

// What the atomic pointer points at: one per stored value.
struct atomic_value_node {
  // Owns the value. A node that store(T) built shares one block with its
  // value (atomic_value_block), and then this owns the node's own block too:
  // a borrow after a store finds the value on the node's cache line, one
  // miss fewer. Such a node is freed by moving `value` out.
  std::shared_ptr<const void> value;
  bool in_block = false;
  // Set when a store retires the node while some slot names it: the last
  // shared_ptr snapshot (snapshot_allocator) to end then frees it
  // (hazard_let_go), not the next store.
  // Never set in a borrowed atomic_value, whose retires wait for a scan:
  // it would be a write to a line the readers are reading.
  std::atomic<bool> retired{false};
};

template <class T>
struct atomic_value_block {
  atomic_value_node node;
  const T value;
  template <class... A>
  explicit atomic_value_block(A&&... a) : value(std::forward<A>(a)...) {}
};

// What an atomic_value that was never stored to points at: a node holding
// nothing, never freed. The current pointer is never null, so the inline
// reader needs no null test: borrowing an empty atomic_value names this node
// and reads a null value.
extern constinit atomic_value_node atomic_value_empty;

void free_node(atomic_value_node* n) noexcept;
struct node_deleter {
  void operator()(atomic_value_node* n) const noexcept { free_node(n); }
};
using node_ptr = std::unique_ptr<atomic_value_node, node_deleter>;

// A node for a value the caller already holds in a shared_ptr.
node_ptr make_node(std::shared_ptr<const void> v);
// A node sharing one allocation with its value, built from args.
template <class T, class... A>
node_ptr make_inline_node(A&&... args) {
  auto b = std::make_shared<atomic_value_block<T>>(std::forward<A>(args)...);
  atomic_value_node* n = &b->node;
  const T* v = &b->value;
  n->value = std::shared_ptr<const void>(std::move(b), v);  // the block now owns itself
  n->in_block = true;
  return node_ptr(n);
}

// The end of a snapshot hold (a short one) on node n that a shared_ptr's
// allocator carried, or that a conversion to one gave up: frees n at once if
// a store retired it and nobody else names it. (A snapshot's own end is one
// store: see ~snapshot.)
inline void snapshot_end(hazard_hold hold, const atomic_value_node* n) noexcept {
  // Read while the hold still protects the node (acquire: see hazard_let_go).
  const bool retired = n->retired.load(std::memory_order_acquire);
  hazard_end_short(hold, n);
  if (WEFT_UNLIKELY(retired)) hazard_let_go(n, hold);
}

// A snapshot (load) held in place and converted to a shared_ptr: its
// control block is built in the hold's slot buffer
// (hazard_snapshot_block), and its last release ends the hold. No reference
// count of the value is touched, so loads on different threads share no
// line; the shared_ptr's own count starts at one in a block this thread
// owns, and libstdc++ releases such a block without a read-modify-write.
// The allocator carries the hold: deallocate() runs after the control block
// is destroyed, the last touch of the buffer, and hands it back there.
// Under TSan the block comes from the heap: TSan sees no edge through the
// keys (runtime sections), and would call the buffer's reuse a race.
template <class U>
struct snapshot_allocator {
  using value_type = U;
  hazard_hold hold;
  const atomic_value_node* node;

  snapshot_allocator(hazard_hold h, const atomic_value_node* n) noexcept : hold(h), node(n) {}
  template <class V>
  snapshot_allocator(const snapshot_allocator<V>& o) noexcept : hold(o.hold), node(o.node) {}

  static constexpr bool in_slot = !WEFT_TSAN && sizeof(U) <= hazard_record::snapshot_block_size &&
                                  alignof(U) <= alignof(std::max_align_t);
  U* allocate(std::size_t n) {
    if constexpr (in_slot)
      if (n == 1) return static_cast<U*>(hazard_snapshot_block(hold));
    return static_cast<U*>(::operator new(n * sizeof(U)));
  }
  void deallocate(U* p, std::size_t n) noexcept {
    if (!in_slot || n != 1) ::operator delete(p);
    snapshot_end(hold, node);
  }
  template <class V>
  bool operator==(const snapshot_allocator<V>& o) const noexcept {
    return hold == o.hold;
  }
};
struct snapshot_deleter {
  void operator()(const void*) const noexcept {}  // the allocator ends the hold
};

class atomic_value_base {
 public:
  constexpr atomic_value_base() noexcept = default;
  explicit atomic_value_base(node_ptr n) noexcept : cur_(n.release()) {}
  atomic_value_base(const atomic_value_base&) = delete;
  atomic_value_base& operator=(const atomic_value_base&) = delete;
  ~atomic_value_base();

  // The caller states the acquire edge after load; the others state the
  // release edge on `key` themselves, before publishing the node.
  std::shared_ptr<const void> load() const noexcept;
  std::shared_ptr<const void> exchange(node_ptr fresh, const void* key) noexcept;
  void store(node_ptr fresh, const void* key) noexcept;
  // Publish `fresh` if the current value is `expected` (identity); else
  // leave it with the caller.
  bool compare_exchange(const void* expected, node_ptr& fresh, const void* key) noexcept;

  // For borrow(): the node pointer readers hold (an atomic_value_node*), and
  // the mark a borrow sets when it publishes a name (hazard_borrow_slow):
  // sticky names of replaced nodes are likely from then on, and their
  // retires wait for a later scan (hazard_retire's defer). Only the first
  // publishing borrow writes it, the line every reader reads.
  const std::atomic<const void*>& current() const noexcept { return cur_; }
  std::atomic<bool>* borrowed_mark() const noexcept { return &borrowed_; }

 private:
  void retire(const void* node, bool replaced = true) noexcept;

  std::atomic<const void*> cur_{&atomic_value_empty};
  mutable std::atomic<bool> borrowed_{false};
};

[[noreturn]] void atomic_value_nil(const char* op);

}  // namespace detail

template <class T>
class atomic_value {
 public:
  using pointer = std::shared_ptr<const T>;

  // A value read in place (see borrow()). Move-only; empty before the first
  // store.
  class borrowed {
   public:
    borrowed() noexcept = default;
    borrowed(borrowed&& o) noexcept
        : held_{std::exchange(o.held_.node, nullptr), std::exchange(o.held_.hold, 0)},
          value_(std::exchange(o.value_, nullptr)) {}
    borrowed& operator=(borrowed&& o) noexcept {
      if (this != &o) {
        reset();
        held_ = {std::exchange(o.held_.node, nullptr), std::exchange(o.held_.hold, 0)};
        value_ = std::exchange(o.value_, nullptr);
      }
      return *this;
    }
    ~borrowed() { reset(); }

    const T* get() const noexcept { return value_; }
    const T& operator*() const noexcept { return *value_; }
    const T* operator->() const noexcept { return value_; }
    explicit operator bool() const noexcept { return value_ != nullptr; }
    // Ends the borrow early.
    void reset() noexcept {
      detail::hazard_end(held_, /*sticky=*/true);
      held_ = {};
      value_ = nullptr;
    }

   private:
    friend class atomic_value;
    detail::hazard_borrowed held_{};  // the node and the hold on it
    const T* value_ = nullptr;
  };

  constexpr atomic_value() noexcept = default;
  explicit atomic_value(T v) : base_(detail::make_inline_node<T>(std::move(v))) {}

  // What load() returns: the value as it was, kept alive for as long as the
  // snapshot lives (past stores, parks, the atomic_value itself, and on any
  // thread). Empty before the first store.
  //
  // Two states: held in place (hold_ != 0: a short hold of this thread's
  // home slot names node_, and no count is touched; an empty snapshot may
  // be one, of the never-stored node), or counted (owned_ shares the value's
  // ownership: the home slot was busy, or this is a copy). Converting a
  // temporary to std::shared_ptr<const T> moves an in-place hold into the
  // pointer's control block, built in the slot's buffer
  // (snapshot_allocator); any other conversion counts a reference.
  class snapshot {
   public:
    snapshot() noexcept = default;
    snapshot(const snapshot& o) : value_(o.value_), owned_(static_cast<pointer>(o)) {}
    snapshot(snapshot&& o) noexcept
        : hold_(std::exchange(o.hold_, 0)),
          node_(std::exchange(o.node_, nullptr)),
          value_(std::exchange(o.value_, nullptr)),
          owned_(std::move(o.owned_)) {}
    // Copy or move, then swap: our old hold ends with o.
    snapshot& operator=(snapshot o) noexcept {
      std::swap(hold_, o.hold_);
      std::swap(node_, o.node_);
      std::swap(value_, o.value_);
      owned_.swap(o.owned_);
      return *this;
    }
    // Ends the hold with one store: the value, if a store replaced it
    // meanwhile, waits for this thread to move on (see the top of the file).
    // Reading the node's retired flag here, to free it at once as a
    // shared_ptr's release does, cost the read loop a fifth of its speed.
    ~snapshot() {
      if (hold_ != 0) detail::hazard_end_short(hold_, node_);
    }

    const T* get() const noexcept { return value_; }
    const T& operator*() const noexcept { return *value_; }
    const T* operator->() const noexcept { return value_; }
    explicit operator bool() const noexcept { return value_ != nullptr; }
    // Lets the value go now (the snapshot becomes empty).
    void reset() noexcept {
      if (hold_ != 0) detail::hazard_end_short(std::exchange(hold_, 0), node_);
      node_ = nullptr;
      owned_.reset();
      value_ = nullptr;
    }

    // An owning std::shared_ptr to the same value. From a temporary (the
    // usual `std::shared_ptr<const T> p = v.load();`) the hold moves into
    // the pointer's control block: no count that another thread touches.
    operator pointer() && {
      const T* v = std::exchange(value_, nullptr);
      if (hold_ == 0) return std::move(owned_);
      const detail::hazard_hold h = std::exchange(hold_, 0);
      const detail::atomic_value_node* n = std::exchange(node_, nullptr);
      if (v == nullptr) {  // the empty node: an empty pointer, not a null with an owner
        detail::snapshot_end(h, n);
        return nullptr;
      }
      try {
        return pointer(v, detail::snapshot_deleter{}, detail::snapshot_allocator<void>(h, n));
      } catch (...) {  // only a heap block (TSan) can fail, before it holds anything
        detail::snapshot_end(h, n);
        throw;
      }
    }
    // From a snapshot that stays: a counted reference (the hold protects
    // the node while its owning pointer is copied).
    operator pointer() const& {
      if (hold_ == 0) return owned_;
      return std::static_pointer_cast<const T>(node_->value);
    }

    friend bool operator==(const snapshot& a, const snapshot& b) noexcept { return a.value_ == b.value_; }
    friend bool operator==(const snapshot& a, const pointer& b) noexcept { return a.value_ == b.get(); }
    friend bool operator==(const snapshot& a, std::nullptr_t) noexcept { return a.value_ == nullptr; }

   private:
    friend class atomic_value;
    detail::hazard_hold hold_ = 0;
    const detail::atomic_value_node* node_ = nullptr;  // while held in place
    const T* value_ = nullptr;
    pointer owned_;  // while counted
  };

  // The current value as a snapshot: Go's Load. Read in place through this
  // thread's home slot (no reference count, no lock, and while the value has
  // not changed since this thread last read it, no read-modify-write or
  // fence: a plain store marks the hold and another ends it); if that slot
  // is busy (another snapshot of this thread holds it), a counted reference.
  snapshot load() const {
    const detail::hazard_borrowed h = detail::acquire_read(
        detail::op::atomic_load, this, [&] { return detail::hazard_snapshot(base_.current()); });
    snapshot s;
    if (WEFT_LIKELY(h.hold != 0)) {
      // The empty node (never stored) is held like any other, and reads null.
      s.hold_ = h.hold;
      s.node_ = static_cast<const detail::atomic_value_node*>(h.node);
      s.value_ = static_cast<const T*>(s.node_->value.get());
      return s;
    }
    // Home is held by another snapshot or borrow: count a reference.
    s.owned_ = std::static_pointer_cast<const T>(base_.load());
    detail::hb_acquire(this);
    s.value_ = s.owned_.get();
    return s;
  }

  // The current value, read in place: no reference count, no lock (the
  // seeds' read-mostly config at Go's speed). Same edges as load().
  borrowed borrow() const {
    const detail::hazard_borrowed h = detail::acquire_read(detail::op::atomic_load, this, [&] {
      return detail::hazard_borrow(base_.current(), base_.borrowed_mark());
    });
    borrowed b;
    b.held_ = h;
    b.value_ = static_cast<const T*>(static_cast<const detail::atomic_value_node*>(h.node)->value.get());
    return b;
  }

  void store(T v) {
    detail::sched_point(detail::op::atomic_store, this);
    base_.store(detail::make_inline_node<T>(std::move(v)), this);
  }
  void store(pointer p) {
    detail::sched_point(detail::op::atomic_store, this);
    if (!p) detail::atomic_value_nil("store");
    base_.store(detail::make_node(std::move(p)), this);
  }

  // Store v; returns the previous value (null if none).
  pointer swap(T v) {
    detail::sched_point(detail::op::atomic_rmw, this);
    return exchange(detail::make_inline_node<T>(std::move(v)));
  }
  pointer swap(pointer p) {
    detail::sched_point(detail::op::atomic_rmw, this);
    if (!p) detail::atomic_value_nil("swap");
    return exchange(detail::make_node(std::move(p)));
  }

  // Store desired if the current value equals old; false if it does not or
  // nothing was stored yet.
  bool compare_and_swap(const T& old, T desired)
    requires std::equality_comparable<T>
  {
    detail::sched_point(detail::op::atomic_rmw, this);
    detail::node_ptr fresh;
    for (;;) {
      // Holding cur keeps its address from being reused: no ABA below.
      std::shared_ptr<const void> cur = base_.load();
      detail::hb_acquire(this);  // before reading the value it points to
      if (!cur || !(*static_cast<const T*>(cur.get()) == old)) return false;
      if (!fresh) fresh = detail::make_inline_node<T>(std::move(desired));
      if (base_.compare_exchange(cur.get(), fresh, this)) return true;
    }
  }
  // Store desired only if nothing was ever stored.
  bool compare_and_swap(std::nullptr_t, T desired) {
    detail::sched_point(detail::op::atomic_rmw, this);
    detail::node_ptr fresh = detail::make_inline_node<T>(std::move(desired));
    bool ok = base_.compare_exchange(nullptr, fresh, this);
    detail::hb_acquire(this);
    return ok;
  }

 private:
  pointer exchange(detail::node_ptr fresh) {
    pointer old = std::static_pointer_cast<const T>(base_.exchange(std::move(fresh), this));
    detail::hb_acquire(this);
    return old;
  }

  detail::atomic_value_base base_;
};

}  // namespace weft
