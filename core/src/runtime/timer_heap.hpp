// A binary min-heap of armed timers, ordered by (when, seq): timers due at the
// same instant fire in the order they were armed. Not synchronised: each
// scheduler guards its own. A timer's heap_index is its position, -1 when not
// in a heap, so removal is O(log n) with no search.
#pragma once

#include <cstdint>
#include <vector>

#include "weft/detail/kernel.hpp"

namespace weft::detail {

class timer_heap {
 public:
  bool empty() const noexcept { return h_.empty(); }
  std::size_t size() const noexcept { return h_.size(); }
  timer* top() const noexcept { return h_.empty() ? nullptr : h_.front(); }

  void push(timer* t) {
    t->seq = next_seq_++;
    t->heap_index = static_cast<std::int32_t>(h_.size());
    h_.push_back(t);
    up(h_.size() - 1);
  }
  timer* pop() noexcept {
    timer* t = h_.front();
    remove_at(0);
    return t;
  }
  // false if t was not in the heap
  bool remove(timer* t) noexcept {
    if (t->heap_index < 0) return false;
    remove_at(static_cast<std::size_t>(t->heap_index));
    return true;
  }
  // Every timer, in no particular order (for teardown).
  std::vector<timer*> take_all() noexcept {
    std::vector<timer*> all;
    all.swap(h_);
    for (timer* t : all) t->heap_index = -1;
    return all;
  }

 private:
  static bool less(const timer* a, const timer* b) noexcept {
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
  }
  void set(std::size_t i, timer* t) noexcept {
    h_[i] = t;
    t->heap_index = static_cast<std::int32_t>(i);
  }
  void up(std::size_t i) noexcept {
    timer* t = h_[i];
    while (i > 0) {
      std::size_t p = (i - 1) / 2;
      if (!less(t, h_[p])) break;
      set(i, h_[p]);
      i = p;
    }
    set(i, t);
  }
  void down(std::size_t i) noexcept {
    timer* t = h_[i];
    const std::size_t n = h_.size();
    for (;;) {
      std::size_t c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && less(h_[c + 1], h_[c])) ++c;
      if (!less(h_[c], t)) break;
      set(i, h_[c]);
      i = c;
    }
    set(i, t);
  }
  void remove_at(std::size_t i) noexcept {
    timer* t = h_[i];
    t->heap_index = -1;
    timer* last = h_.back();
    h_.pop_back();
    if (i < h_.size()) {
      set(i, last);
      if (i > 0 && less(last, h_[(i - 1) / 2]))
        up(i);
      else
        down(i);
    }
  }

  std::vector<timer*> h_;
  std::int64_t next_seq_ = 0;
};

}  // namespace weft::detail
