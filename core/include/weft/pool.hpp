// weft::pool<T> — Go's sync.Pool: a cache of interchangeable objects.
//
//   weft::pool<std::vector<char>> buffers{[] { return std::vector<char>(4096); }};
//   std::unique_ptr<std::vector<char>> b = buffers.get();   // cached, or new
//   ...
//   buffers.put(std::move(b));                               // for someone else
//
// get() returns a cached object if there is one, else the result of new_fn
// (which may return a T or a std::unique_ptr<T>), else (no new_fn) null. An
// object from get() is in whatever state the last user left it: reset it
// yourself. put() may keep the object or destroy it; the pool may also drop
// objects at any time (Go empties pools at garbage collection), so a pool is a
// cache, never a free list whose contents matter. new_fn must be safe to call
// from several goroutines at once.
//
// Layout (Go's per-P caches): a small array of shards, one per worker thread
// more or less (a thread picks its shard once, round robin); get and put use
// the calling thread's shard and, when it is empty, take from the others. A
// shard keeps at most a bounded number of objects; put beyond that destroys
// the object. A goroutine may move between threads between two calls: that
// only changes which shard it uses. Cached objects are destroyed with the pool.
//
// Happens-before: put(x) happens before the get() that returns x.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "weft/detail/kernel.hpp"

namespace weft {

namespace detail {

// The type-erased cache (core/src/sync/pool.cpp).
class pool_base {
 public:
  explicit pool_base(void (*destroy)(void*) noexcept);
  ~pool_base();
  pool_base(const pool_base&) = delete;
  pool_base& operator=(const pool_base&) = delete;

  // A cached object, or null.
  void* take() noexcept;
  // Cache x; false when the pool keeps no more (the caller destroys x).
  bool give(void* x) noexcept;

 private:
  struct shard;
  shard* shards_;
  std::size_t mask_;
  void (*destroy_)(void*) noexcept;
};

}  // namespace detail

template <class T>
class pool {
 public:
  using new_function = std::function<std::unique_ptr<T>()>;

  // No new_fn: get() returns null when nothing is cached.
  pool() : base_(&destroy) {}

  // new_fn returns a T or a std::unique_ptr<T>.
  template <class F>
    requires std::is_invocable_v<F&> &&
             (std::is_convertible_v<std::invoke_result_t<F&>, std::unique_ptr<T>> ||
              std::is_convertible_v<std::invoke_result_t<F&>, T>)
  explicit pool(F new_fn) : base_(&destroy), new_(wrap(std::move(new_fn))) {}

  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  std::unique_ptr<T> get() {
    detail::sched_point(detail::op::pool, this);
    if (void* p = base_.take()) {
      detail::hb_acquire(p);
      return std::unique_ptr<T>(static_cast<T*>(p));
    }
    if (new_) return new_();
    return nullptr;
  }

  // A null x is ignored (Go's Put(nil)).
  void put(std::unique_ptr<T> x) {
    detail::sched_point(detail::op::pool, this);
    if (!x) return;
    T* p = x.release();
    detail::hb_release(p);
    if (!base_.give(p)) delete p;
  }

 private:
  static void destroy(void* p) noexcept { delete static_cast<T*>(p); }

  template <class F>
  static new_function wrap(F fn) {
    if constexpr (std::is_convertible_v<std::invoke_result_t<F&>, std::unique_ptr<T>>)
      return new_function(std::move(fn));
    else
      return [fn = std::move(fn)]() mutable { return std::make_unique<T>(fn()); };
  }

  detail::pool_base base_;
  new_function new_;
};

}  // namespace weft
