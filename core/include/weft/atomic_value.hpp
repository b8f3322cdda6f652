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
// Implementation: the shared_ptr behind a tiny internal lock held for a
// pointer copy (core/src/sync/atomic_value.cpp); no user code (T's
// destructor or ==) ever runs under it. A load costs one uncontended lock and
// one reference-count increment.
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

#include "weft/detail/kernel.hpp"

namespace weft {

namespace detail {

class atomic_value_base {
 public:
  constexpr atomic_value_base() noexcept = default;
  explicit atomic_value_base(std::shared_ptr<const void> v) noexcept : value_(std::move(v)) {}
  atomic_value_base(const atomic_value_base&) = delete;
  atomic_value_base& operator=(const atomic_value_base&) = delete;

  std::shared_ptr<const void> load() const noexcept;
  std::shared_ptr<const void> exchange(std::shared_ptr<const void> v) noexcept;
  // Store `desired` if the current pointer is `expected` (identity). On
  // success `desired` is left holding the previous value, to be released by
  // the caller outside the lock.
  bool compare_exchange(const void* expected, std::shared_ptr<const void>& desired) noexcept;

 private:
  mutable std::atomic<std::uint32_t> lock_{0};
  std::shared_ptr<const void> value_;
};

[[noreturn]] void atomic_value_nil(const char* op);

}  // namespace detail

template <class T>
class atomic_value {
 public:
  using pointer = std::shared_ptr<const T>;

  constexpr atomic_value() noexcept = default;
  explicit atomic_value(T v) : base_(std::make_shared<const T>(std::move(v))) {}

  pointer load() const {
    detail::sched_point(detail::op::atomic_load, this);
    pointer p = std::static_pointer_cast<const T>(base_.load());
    detail::hb_acquire(this);
    return p;
  }

  void store(T v) { store(std::make_shared<const T>(std::move(v))); }
  void store(pointer p) {
    detail::sched_point(detail::op::atomic_store, this);
    if (!p) detail::atomic_value_nil("store");
    detail::hb_release(this);
    std::shared_ptr<const void> old = base_.exchange(std::move(p));
  }

  // Store v; returns the previous value (null if none).
  pointer swap(T v) { return swap(std::make_shared<const T>(std::move(v))); }
  pointer swap(pointer p) {
    detail::sched_point(detail::op::atomic_rmw, this);
    if (!p) detail::atomic_value_nil("swap");
    detail::hb_release(this);
    pointer old = std::static_pointer_cast<const T>(base_.exchange(std::move(p)));
    detail::hb_acquire(this);
    return old;
  }

  // Store desired if the current value equals old; false if it does not or
  // nothing was stored yet.
  bool compare_and_swap(const T& old, T desired)
    requires std::equality_comparable<T>
  {
    detail::sched_point(detail::op::atomic_rmw, this);
    std::shared_ptr<const void> fresh;
    for (;;) {
      // Holding cur keeps its address from being reused: no ABA below.
      std::shared_ptr<const void> cur = base_.load();
      detail::hb_acquire(this);  // before reading the value it points to
      if (!cur || !(*static_cast<const T*>(cur.get()) == old)) return false;
      if (!fresh) fresh = std::make_shared<const T>(std::move(desired));
      detail::hb_release(this);
      if (base_.compare_exchange(cur.get(), fresh)) return true;
    }
  }
  // Store desired only if nothing was ever stored.
  bool compare_and_swap(std::nullptr_t, T desired) {
    detail::sched_point(detail::op::atomic_rmw, this);
    std::shared_ptr<const void> fresh = std::make_shared<const T>(std::move(desired));
    detail::hb_release(this);
    bool ok = base_.compare_exchange(nullptr, fresh);
    detail::hb_acquire(this);
    return ok;
  }

 private:
  detail::atomic_value_base base_;
};

}  // namespace weft
