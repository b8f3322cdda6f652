// Starvation: per mutex, rw_mutex and semaphore, how often each waiter was
// passed over.
//
// A goroutine waits for resource R from its first park on R until it
// acquires R (or ends). While it waits, every acquisition of R by another
// goroutine passes it over, but only if the waiter has taken a step since the
// last time it was passed over: it was woken, tried again and lost (Go's
// normal-mode mutex lets a running goroutine take the lock ahead of a woken
// waiter). A waiter that simply never gets scheduled (a strategy such as PCT
// keeping a low-priority goroutine off the CPU) is not being passed over by
// the resource, so a fair program is not reported because of an unfair
// schedule. More than `threshold` pass-overs fails the run (kind::starvation)
// with the counts: who acquired meanwhile and how often.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "detect/resources.hpp"

namespace weft::check::detail {

class explorer;

class starvation_detector {
 public:
  starvation_detector(explorer& ex, std::uint64_t threshold) : ex_(ex), threshold_(threshold) {}
  void begin_run();
  void on_event(const event& e);

 private:
  struct waiter {
    const void* res = nullptr;  // null: not waiting
    weft::detail::resource_kind kind = weft::detail::resource_kind::mutex;
    weft::source_location requested_at{};
    std::uint64_t passed = 0;
    bool tried = false;  // took a step since it was last passed over
    std::vector<raw_starved::acquirer> by;
  };
  waiter& w(std::uint32_t g) {
    if (g >= waiters_.size()) waiters_.resize(g + 1);
    return waiters_[g];
  }

  explorer& ex_;
  std::uint64_t threshold_;
  std::vector<waiter> waiters_;  // by goroutine id
  std::unordered_map<const void*, std::vector<std::uint32_t>> waiting_on_;
  // (goroutine, resource) -> acquisitions this run
  std::unordered_map<const void*, std::unordered_map<std::uint32_t, std::uint64_t>> acquired_;
};

}  // namespace weft::check::detail
