// The explorer's random numbers: SplitMix64, seeded from (seed, iteration) and
// nothing else (never the wall clock, never an address), so every run is a
// pure function of (strategy, seed, iteration).
#pragma once

#include <cstdint>

namespace weft::check::detail {

inline std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class rng {
 public:
  rng() noexcept = default;
  explicit rng(std::uint64_t seed) noexcept : s_(seed) {}
  // A generator for one iteration of one exploration (a stream per purpose).
  static rng for_iteration(std::uint64_t seed, std::uint64_t iteration, std::uint64_t stream = 0) noexcept {
    return rng(mix64(seed ^ mix64(iteration * 0x9e3779b97f4a7c15ull + stream)));
  }
  std::uint64_t next() noexcept {
    s_ += 0x9e3779b97f4a7c15ull;
    return mix64(s_);
  }
  // Uniform in [0, n), n >= 1 (Lemire's multiply-shift; the bias for n < 2^32
  // is below 2^-32).
  std::uint32_t below(std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>(((next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }
  // Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t span = hi - lo + 1;
    return span == 0 ? next() : lo + next() % span;
  }

 private:
  std::uint64_t s_ = 0;
};

}  // namespace weft::check::detail
