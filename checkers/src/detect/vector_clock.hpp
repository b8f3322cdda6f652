// A vector clock over goroutine ids (index 0: the scheduler's own context,
// where timers fire). Ids are dense and restart at 1 every run, so a clock is
// a plain vector that grows to the largest id it has heard of.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace weft::check::detail {

class vector_clock {
 public:
  std::uint32_t get(std::uint32_t g) const noexcept { return g < c_.size() ? c_[g] : 0; }
  void set(std::uint32_t g, std::uint32_t v) {
    if (g >= c_.size()) c_.resize(g + 1, 0);
    c_[g] = v;
  }
  void tick(std::uint32_t g) { set(g, get(g) + 1); }
  // this := this ⊔ o
  void join(const vector_clock& o) {
    if (o.c_.size() > c_.size()) c_.resize(o.c_.size(), 0);
    for (std::size_t i = 0; i < o.c_.size(); ++i) c_[i] = std::max(c_[i], o.c_[i]);
  }
  void clear() noexcept { c_.clear(); }
  bool empty() const noexcept { return c_.empty(); }

 private:
  std::vector<std::uint32_t> c_;
};

}  // namespace weft::check::detail
