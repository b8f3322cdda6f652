// weft::check::shared<T> — a plain (non-atomic) variable the explorer watches.
//
//   weft::check::shared<int> balance{10};
//   weft::go([&] { if (balance.load() >= 6) balance.store(balance.load() - 6); });
//   balance += 1;   // a load then a store: two interleaving points, not atomic
//
// Under the explorer every load and store is an interleaving point
// (op::shared_read / op::shared_write) and is recorded as an access for the
// race detector: a plain access that conflicts with an unordered access to the
// same variable is a race. Synchronise with weft primitives (or weft::atomic).
// Outside an exploration it is just a T. Works for any copyable T.
//
// WEFT_READ(addr, size) / WEFT_WRITE(addr, size) do the same for raw memory:
// put one right before the access it describes.
#pragma once

#include <cstddef>
#include "weft/source_location.hpp"
#include <type_traits>
#include <utility>

#include "weft/detail/config.hpp"

namespace weft::check {

namespace detail {
// An access about to happen: an interleaving point and a record for the race
// detector. Returns whether an exploration watches it (false: a no-op).
bool on_access(const void* addr, std::size_t size, bool write, const weft::source_location& where);
// [addr, addr + size) begins or ends its life: the race detector forgets what
// it knew about that memory (reused memory is a new variable). No interleaving point.
void on_lifetime(const void* addr, std::size_t size) noexcept;

#if WEFT_TSAN
void tsan_ignore_begin() noexcept;
void tsan_ignore_end() noexcept;
#endif

// Under the explorer, the access itself belongs to weft's own race detector:
// ThreadSanitizer (which sees goroutines as fibers) is told to look away, so an
// intentionally racy test program does not fail a TSan build.
class access_scope {
 public:
  access_scope(const void* addr, std::size_t size, bool write, const weft::source_location& where)
      : watched_(on_access(addr, size, write, where)) {
#if WEFT_TSAN
    if (watched_) tsan_ignore_begin();
#endif
  }
  ~access_scope() {
#if WEFT_TSAN
    if (watched_) tsan_ignore_end();
#endif
  }
  access_scope(const access_scope&) = delete;
  access_scope& operator=(const access_scope&) = delete;

 private:
  bool watched_;
};
// An operand that carries its caller's location: an operator cannot take a
// defaulted source_location, but the implicit conversion to this type can,
// so `x += 1` reports the line it is written on.
template <class T>
struct located {
  template <class U, class = std::enable_if_t<std::is_convertible_v<U&&, T>>>
  located(U&& v, const weft::source_location& w = weft::source_location::current())  // NOLINT(google-explicit-constructor)
      : value(std::forward<U>(v)), where(w) {}
  T value;
  weft::source_location where;
};
}  // namespace detail

template <class T>
class shared {
  static_assert(std::is_copy_constructible_v<T> && std::is_copy_assignable_v<T>,
                "weft::check::shared<T>: T must be copyable");

 public:
  shared() { detail::on_lifetime(&v_, sizeof(T)); }
  shared(const T& v) : v_(v) {  // NOLINT(google-explicit-constructor): initialisation is not an access
    detail::on_lifetime(&v_, sizeof(T));
  }
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;
  ~shared() { detail::on_lifetime(&v_, sizeof(T)); }

  T load(const weft::source_location& where = weft::source_location::current()) const {
    detail::access_scope a(&v_, sizeof(T), false, where);
    return v_;
  }
  void store(const T& v, const weft::source_location& where = weft::source_location::current()) {
    detail::access_scope a(&v_, sizeof(T), true, where);
    v_ = v;
  }

  // The location of `operator T()`, `x = v`, `++x` and `--x` is inside this
  // header (no operand can carry the caller's: `x = v` would be ambiguous with
  // the converting constructor); use load(), store() or `x += 1` where a
  // report should name the line.
  operator T() const { return load(); }  // NOLINT(google-explicit-constructor)
  shared& operator=(const T& v) {
    store(v);
    return *this;
  }

  // Read-modify-write as two accesses (a load, then a store): deliberately not
  // atomic, exactly like `x += n` on a plain variable.
  template <class U = T, class = decltype(std::declval<U&>() += std::declval<const U&>())>
  shared& operator+=(detail::located<T> d) {
    T v = load(d.where);
    v += d.value;
    store(v, d.where);
    return *this;
  }
  template <class U = T, class = decltype(std::declval<U&>() -= std::declval<const U&>())>
  shared& operator-=(detail::located<T> d) {
    T v = load(d.where);
    v -= d.value;
    store(v, d.where);
    return *this;
  }
  template <class U = T, class = decltype(++std::declval<U&>())>
  shared& operator++() {
    T v = load();
    ++v;
    store(v);
    return *this;
  }
  template <class U = T, class = decltype(--std::declval<U&>())>
  shared& operator--() {
    T v = load();
    --v;
    store(v);
    return *this;
  }

  // Unwatched access, for setup and checks outside the explored body.
  T& unsafe_get() noexcept { return v_; }
  const T& unsafe_get() const noexcept { return v_; }

 private:
  T v_{};
};

}  // namespace weft::check

#define WEFT_READ(addr, size) \
  ((void)::weft::check::detail::on_access((addr), (size), false, ::weft::source_location::current()))
#define WEFT_WRITE(addr, size) \
  ((void)::weft::check::detail::on_access((addr), (size), true, ::weft::source_location::current()))
