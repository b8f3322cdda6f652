// weft::atomic<T> — std::atomic<T> that the explorer can see.
//
//   weft::atomic<int> hits{0};
//   hits.fetch_add(1);  ++hits;  int n = hits.load();
//   bool ok = flag.compare_exchange_strong(expected, true);
//
// The interface of std::atomic (load, store, exchange, compare_exchange_weak
// and _strong, fetch_add/sub/and/or/xor and the operators for integral types,
// fetch_add/sub for pointers and floating point), sequentially consistent by
// default. No wait/notify: they would block a worker thread; use a channel or
// a cond.
//
// On the real scheduler it is a plain std::atomic<T> plus the kernel's
// interleaving-point check. Under the explorer every operation is an
// interleaving point, and it states its happens-before edges on the atomic's
// address as the C++ memory model gives them: a load with acquire (or
// stronger) order acquires, a store with release (or stronger) releases, a
// read-modify-write does whichever its order says (seq_cst: both). A failed
// compare-exchange is a load with the failure order. These are
// synchronisation, never data races, for the race checker.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <type_traits>

#include "weft/detail/kernel.hpp"

namespace weft {

namespace detail {

constexpr bool acquires(std::memory_order m) noexcept {
  return m == std::memory_order_consume || m == std::memory_order_acquire ||
         m == std::memory_order_acq_rel || m == std::memory_order_seq_cst;
}
constexpr bool releases(std::memory_order m) noexcept {
  return m == std::memory_order_release || m == std::memory_order_acq_rel ||
         m == std::memory_order_seq_cst;
}
// The failure order std::atomic derives from a single order.
constexpr std::memory_order cas_failure_order(std::memory_order m) noexcept {
  return m == std::memory_order_acq_rel   ? std::memory_order_acquire
         : m == std::memory_order_release ? std::memory_order_relaxed
                                          : m;
}

template <class T>
concept atomic_integral = std::integral<T> && !std::same_as<std::remove_cv_t<T>, bool>;

// The new value an integral operator returns, computed as std::atomic does:
// wrapping, never signed overflow.
template <atomic_integral T>
constexpr T wrap_add(T a, T b) noexcept {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <atomic_integral T>
constexpr T wrap_sub(T a, T b) noexcept {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}

}  // namespace detail

template <class T>
class atomic {
  static_assert(std::is_trivially_copyable_v<T> && std::is_copy_constructible_v<T> &&
                    std::is_move_constructible_v<T> && std::is_copy_assignable_v<T> &&
                    std::is_move_assignable_v<T>,
                "weft::atomic<T>: T must be trivially copyable, as for std::atomic");

 public:
  using value_type = T;
  static constexpr bool is_always_lock_free = std::atomic<T>::is_always_lock_free;

  constexpr atomic() noexcept(std::is_nothrow_default_constructible_v<T>) : a_() {}
  constexpr atomic(T desired) noexcept : a_(desired) {}  // NOLINT: as std::atomic
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  bool is_lock_free() const noexcept { return a_.is_lock_free(); }

  T load(std::memory_order order = std::memory_order_seq_cst) const {
    detail::sched_point(detail::op::atomic_load, this);
    T v = a_.load(order);
    if (detail::acquires(order)) detail::hb_acquire(this);
    return v;
  }
  operator T() const { return load(); }  // NOLINT: as std::atomic

  void store(T desired, std::memory_order order = std::memory_order_seq_cst) {
    detail::sched_point(detail::op::atomic_store, this);
    if (detail::releases(order)) detail::hb_release(this);
    a_.store(desired, order);
  }
  T operator=(T desired) {
    store(desired);
    return desired;
  }

  T exchange(T desired, std::memory_order order = std::memory_order_seq_cst) {
    return rmw(order, [&] { return a_.exchange(desired, order); });
  }

  // The outcome decides the edges, so they are stated after the operation
  // (nothing can interleave with it under the explorer; on the real
  // scheduler std::atomic is synchronisation in its own right).
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure) {
    detail::sched_point(detail::op::atomic_rmw, this);
    bool ok = a_.compare_exchange_weak(expected, desired, success, failure);
    cas_edges(ok, success, failure);
    return ok;
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order order = std::memory_order_seq_cst) {
    return compare_exchange_weak(expected, desired, order, detail::cas_failure_order(order));
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure) {
    detail::sched_point(detail::op::atomic_rmw, this);
    bool ok = a_.compare_exchange_strong(expected, desired, success, failure);
    cas_edges(ok, success, failure);
    return ok;
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order order = std::memory_order_seq_cst) {
    return compare_exchange_strong(expected, desired, order, detail::cas_failure_order(order));
  }

  // --- integral types ---
  T fetch_add(T arg, std::memory_order order = std::memory_order_seq_cst)
    requires detail::atomic_integral<T> || std::floating_point<T>
  {
    return rmw(order, [&] { return a_.fetch_add(arg, order); });
  }
  T fetch_sub(T arg, std::memory_order order = std::memory_order_seq_cst)
    requires detail::atomic_integral<T> || std::floating_point<T>
  {
    return rmw(order, [&] { return a_.fetch_sub(arg, order); });
  }
  T fetch_and(T arg, std::memory_order order = std::memory_order_seq_cst)
    requires detail::atomic_integral<T>
  {
    return rmw(order, [&] { return a_.fetch_and(arg, order); });
  }
  T fetch_or(T arg, std::memory_order order = std::memory_order_seq_cst)
    requires detail::atomic_integral<T>
  {
    return rmw(order, [&] { return a_.fetch_or(arg, order); });
  }
  T fetch_xor(T arg, std::memory_order order = std::memory_order_seq_cst)
    requires detail::atomic_integral<T>
  {
    return rmw(order, [&] { return a_.fetch_xor(arg, order); });
  }
  T operator++() requires detail::atomic_integral<T> { return detail::wrap_add(fetch_add(1), T(1)); }
  T operator++(int) requires detail::atomic_integral<T> { return fetch_add(1); }
  T operator--() requires detail::atomic_integral<T> { return detail::wrap_sub(fetch_sub(1), T(1)); }
  T operator--(int) requires detail::atomic_integral<T> { return fetch_sub(1); }
  T operator+=(T arg) requires detail::atomic_integral<T> { return detail::wrap_add(fetch_add(arg), arg); }
  T operator-=(T arg) requires detail::atomic_integral<T> { return detail::wrap_sub(fetch_sub(arg), arg); }
  T operator+=(T arg) requires std::floating_point<T> { return fetch_add(arg) + arg; }
  T operator-=(T arg) requires std::floating_point<T> { return fetch_sub(arg) - arg; }
  T operator&=(T arg) requires detail::atomic_integral<T> { return fetch_and(arg) & arg; }
  T operator|=(T arg) requires detail::atomic_integral<T> { return fetch_or(arg) | arg; }
  T operator^=(T arg) requires detail::atomic_integral<T> { return fetch_xor(arg) ^ arg; }

  // --- pointers ---
  T fetch_add(std::ptrdiff_t arg, std::memory_order order = std::memory_order_seq_cst)
    requires std::is_pointer_v<T>
  {
    return rmw(order, [&] { return a_.fetch_add(arg, order); });
  }
  T fetch_sub(std::ptrdiff_t arg, std::memory_order order = std::memory_order_seq_cst)
    requires std::is_pointer_v<T>
  {
    return rmw(order, [&] { return a_.fetch_sub(arg, order); });
  }
  T operator++() requires std::is_pointer_v<T> { return fetch_add(1) + 1; }
  T operator++(int) requires std::is_pointer_v<T> { return fetch_add(1); }
  T operator--() requires std::is_pointer_v<T> { return fetch_sub(1) - 1; }
  T operator--(int) requires std::is_pointer_v<T> { return fetch_sub(1); }
  T operator+=(std::ptrdiff_t arg) requires std::is_pointer_v<T> { return fetch_add(arg) + arg; }
  T operator-=(std::ptrdiff_t arg) requires std::is_pointer_v<T> { return fetch_sub(arg) - arg; }

 private:
  template <class Op>
  T rmw(std::memory_order order, Op op) {
    detail::sched_point(detail::op::atomic_rmw, this);
    if (detail::releases(order)) detail::hb_release(this);
    T old = op();
    if (detail::acquires(order)) detail::hb_acquire(this);
    return old;
  }
  void cas_edges(bool ok, std::memory_order success, std::memory_order failure) noexcept {
    std::memory_order o = ok ? success : failure;
    if (detail::acquires(o)) detail::hb_acquire(this);
    if (ok && detail::releases(o)) detail::hb_release(this);
  }

  std::atomic<T> a_;
};

}  // namespace weft
