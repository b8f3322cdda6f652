// weft::atomic_value<T> — Go's atomic.Value: a value replaced as a whole,
// read without blocking writers.
//
//   weft::atomic_value<config> current{load_config()};
//   std::shared_ptr<const config> c = current.load();   // a snapshot; never torn
//   current.store(new_config);                          // readers see old or new
//
// Copy-on-write: the value lives in an immutable shared_ptr<const T>; a store
// publishes a new one, and readers that still hold the old one keep it alive.
// load() returns null before the first store. Storing a null pointer throws
// panic_error with Go's text ("sync/atomic: store of nil value into Value"
// and the swap / compare-and-swap equivalents).
//
// compare_and_swap(old, new) compares values (T's ==), as Go compares the
// interface values; compare_and_swap(nullptr, new) stores only into a
// never-stored value.
//
// Borrowing: v.borrow() returns a guard through which the current value is
// read in place — no reference count, no lock, and while the value has not
// changed since this thread last borrowed it, no read-modify-write or fence
// (a plain store marks the borrow and another ends it): Go's Load, which the
// garbage collector makes free. The guard keeps the value alive until it is
// destroyed (it may outlive a store, a park or the atomic_value itself).
//
//   auto c = current.borrow();   // c->field, *c; empty before the first store
//
// load() reads the same way and wraps the hold in a shared_ptr whose control
// block is built in a buffer of the thread's hazard record: no count that
// other threads touch, so loads on different cores share no cache line (a
// shared_ptr copy of one count costs an atomic increment and decrement on a
// line every reader writes). A thread reads in place through one snapshot
// per slot at a time; a second snapshot of a value while the first lives, or
// one whose slot another value holds, counts a reference instead.
//
// The price of the cheap repeat: a thread's slot keeps naming the value it
// last read after the read ends. A replaced value is freed by a store that
// finds nobody naming it, or when its last snapshot ends if no other thread
// names it (the ending thread takes back its own name). One that a thread
// still names waits until that thread moves on (reads another value through
// the slot, stores, or exits) and a store comes: at most one value per slot,
// 4 per thread. Once an atomic_value has been borrowed, the
// values it replaces also wait for the writers' next scan, at most 16 stores
// later (hazard_deferred_scan). A weak_ptr to a snapshot keeps its hold (and
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
  // snapshot hold to end then frees it (hazard_let_go), not the next store.
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

// A snapshot (load) read in place, as a borrow, but handed out as a
// shared_ptr: its control block is built in the hold's slot buffer
// (hazard_snapshot_block), and its last release ends the hold. No reference
// count of the value is touched, so loads on different threads share no
// line; the shared_ptr's own count starts at one in a block this thread
// owns, and libstdc++ releases such a block without a read-modify-write.
// The allocator carries the hold: deallocate() runs after the control block
// is destroyed, the last touch of the buffer, and hands it back there.
// Under TSan the block comes from the heap: TSan sees no edge through the
// marks (runtime sections), and would call the buffer's reuse a race.
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
    // Read while the hold still protects the node (acquire: see hazard_let_go).
    const bool retired = node->retired.load(std::memory_order_acquire);
    hazard_end_short(hold);
    if (WEFT_UNLIKELY(retired)) hazard_let_go(node, hold);
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
    borrowed(borrowed&& o) noexcept : hold_(std::exchange(o.hold_, 0)), value_(std::exchange(o.value_, nullptr)) {}
    borrowed& operator=(borrowed&& o) noexcept {
      if (this != &o) {
        reset();
        hold_ = std::exchange(o.hold_, 0);
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
      detail::hazard_end(hold_, /*sticky=*/true);
      hold_ = 0;
      value_ = nullptr;
    }

   private:
    friend class atomic_value;
    detail::hazard_hold hold_ = 0;
    const T* value_ = nullptr;
  };

  constexpr atomic_value() noexcept = default;
  explicit atomic_value(T v) : base_(detail::make_inline_node<T>(std::move(v))) {}

  pointer load() const {
    const detail::hazard_borrowed h = detail::acquire_read(
        detail::op::atomic_load, this, [&] { return detail::hazard_snapshot(base_.current()); });
    if (WEFT_LIKELY(h.hold != 0)) {
      const auto* n = static_cast<const detail::atomic_value_node*>(h.node);
      const void* v = n->value.get();
      if (WEFT_UNLIKELY(v == nullptr)) {  // the empty node: an empty pointer, as before any store
        detail::hazard_end_short(h.hold);
        return nullptr;
      }
      try {
        return std::static_pointer_cast<const T>(std::shared_ptr<const void>(
            v, detail::snapshot_deleter{}, detail::snapshot_allocator<void>(h.hold, n)));
      } catch (...) {  // only a heap block (TSan) can fail, before it holds anything
        detail::hazard_end_short(h.hold);
        throw;
      }
    }
    // Home is held by another snapshot or borrow: count a reference.
    pointer p = std::static_pointer_cast<const T>(base_.load());
    detail::hb_acquire(this);
    return p;
  }

  // The current value, read in place: no reference count, no lock (the
  // seeds' read-mostly config at Go's speed). Same edges as load().
  borrowed borrow() const {
    const detail::hazard_borrowed h = detail::acquire_read(detail::op::atomic_load, this, [&] {
      return detail::hazard_borrow(base_.current(), base_.borrowed_mark());
    });
    borrowed b;
    b.hold_ = h.hold;
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
