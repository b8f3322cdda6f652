// weft::pool's type-erased cache: Go's per-P pool caches, simplified.
//
// Shards, one per worker thread more or less: a thread draws its shard index
// once (round robin), so with as many shards as workers each worker has a
// shard to itself and its lock stays uncontended. A shard is a bounded LIFO
// stack (the most recently used object is the one still in cache); get falls
// back to the other shards before giving up (Go's getSlow steals from other
// Ps). Under the explorer everything runs on one thread, hence one shard and
// a deterministic order.
//
// The shard locks and stacks are runtime bookkeeping (runtime_section); the
// put -> get edge is stated on each object's address by pool<T>.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "runtime/lock.hpp"
#include "runtime/sanitizers.hpp"
#include "weft/pool.hpp"

namespace weft::detail {

namespace {

constexpr std::size_t shard_capacity = 128;  // objects a shard keeps; more are dropped
constexpr std::size_t max_shards = 64;

std::size_t shard_count() noexcept {
  static const std::size_t n = [] {
    std::size_t want = std::max<std::size_t>(std::thread::hardware_concurrency(), 4);
    std::size_t p = 1;
    while (p < want && p < max_shards) p <<= 1;
    return p;
  }();
  return n;
}

std::size_t thread_shard_index() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local std::size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return index;
}

}  // namespace

struct alignas(64) pool_base::shard {
  spin_lock lock;
  std::vector<void*> items;  // a stack: back is the most recently put
  std::atomic<std::size_t> size{0};  // items.size(), readable without the lock
};

pool_base::pool_base(void (*destroy)(void*) noexcept)
    : shards_(new shard[shard_count()]), mask_(shard_count() - 1), destroy_(destroy) {}

pool_base::~pool_base() {
  for (std::size_t i = 0; i <= mask_; ++i)
    for (void* p : shards_[i].items) destroy_(p);
  delete[] shards_;
}

void* pool_base::take() noexcept {
  runtime_section rs;
  const std::size_t home = thread_shard_index() & mask_;
  for (std::size_t k = 0; k <= mask_; ++k) {
    shard& s = shards_[(home + k) & mask_];
    if (k != 0 && s.size.load(std::memory_order_relaxed) == 0) continue;  // not worth its lock
    lock_guard l(s.lock);
    if (!s.items.empty()) {
      void* p = s.items.back();
      s.items.pop_back();
      s.size.store(s.items.size(), std::memory_order_relaxed);
      return p;
    }
  }
  return nullptr;
}

bool pool_base::give(void* x) noexcept {
  runtime_section rs;
  shard& s = shards_[thread_shard_index() & mask_];
  lock_guard l(s.lock);
  if (s.items.size() >= shard_capacity) return false;
  try {
    s.items.push_back(x);
    s.size.store(s.items.size(), std::memory_order_relaxed);
  } catch (...) {
    return false;  // out of memory: dropping is always allowed
  }
  return true;
}

}  // namespace weft::detail
