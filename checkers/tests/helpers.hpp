// Shared helpers for the explorer's tests.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include <weft/check.hpp>
#include <weft/detail/config.hpp>

namespace explore_test {

inline constexpr bool tsan = WEFT_TSAN;
// Sanitizer builds run fewer iterations (TSan makes every fiber costly) and
// cannot measure RSS meaningfully (shadow memory, ASan's quarantine).
inline constexpr bool sanitized = WEFT_TSAN || WEFT_ASAN;
constexpr std::uint64_t scaled(std::uint64_t n) { return tsan ? (n + 9) / 10 : n; }

// An append-only record of an interleaving, written by several goroutines
// without synchronisation on purpose: std::atomic, so that ThreadSanitizer
// does not report the intended unordered appends.
class interleaving_log {
 public:
  void push(char c) noexcept { buf_[n_.fetch_add(1, std::memory_order_relaxed) % buf_.size()].store(c, std::memory_order_relaxed); }
  std::string str() const {
    std::string s;
    const std::size_t n = std::min(n_.load(std::memory_order_relaxed), buf_.size());
    for (std::size_t i = 0; i < n; ++i) s.push_back(buf_[i].load(std::memory_order_relaxed));
    return s;
  }

 private:
  std::array<std::atomic<char>, 64> buf_{};
  std::atomic<std::size_t> n_{0};
};

// Sets (or, with nullopt, unsets) an environment variable for a scope.
class scoped_env {
 public:
  scoped_env(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Options independent of the WEFT_* environment the tests run under.
inline weft::check::options opts(weft::check::strategy s, std::uint64_t iterations) {
  scoped_env a("WEFT_STRATEGY", std::nullopt), b("WEFT_ITERATIONS", std::nullopt), c("WEFT_SEED", std::nullopt),
      d("WEFT_MAX_STEPS", std::nullopt), e("WEFT_TIME_BUDGET", std::nullopt), f("WEFT_DETECT", std::nullopt),
      g("WEFT_LIVELOCK_WINDOW", std::nullopt), h("WEFT_STARVATION_THRESHOLD", std::nullopt);
  weft::check::options o;
  o.strategy = std::move(s);
  o.iterations = iterations;
  return o;
}

// For tests that use a deliberately unsynchronised shared<T> as a source of
// interleavings (to test the explorer itself, not the race detector): without
// this the race detector reports the race before the assertion they expect.
inline weft::check::options without_race_detector(weft::check::options o) {
  o.race.enabled = false;
  return o;
}

inline std::uint64_t binomial(unsigned n, unsigned k) {
  if (k > n) return 0;
  std::uint64_t r = 1;
  for (unsigned i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

// Resident set size in bytes.
inline std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace explore_test
