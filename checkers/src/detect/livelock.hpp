// Livelock: goroutines that keep running, under fair scheduling, without
// making progress.
//
// Progress is (by default) a goroutine finishing, a value crossing a channel,
// or weft::check::progress(). A value crossed a channel when:
//  - a goroutine whose last interleaving point was a send, receive or select
//    readies another (it handed a value to a parked receiver, or took one from
//    a parked sender; a close readies from a close, a timer from the
//    scheduler's context, neither counts), or
//  - a receiver (receive or select) acquires an address that a sender (send
//    or select) released and then did not park on: a slot of a channel's
//    buffer it filled (a parking party's release only announces it).
// A timer's tick is no progress: it is the clock moving, and a livelock is
// often driven by one (the hallway's cadence).
//
// The window: when `window` steps go by without progress, the run is a
// livelock candidate. It is reported only if the window was fair: every
// goroutine that was runnable in it ran in it (a strategy keeping one
// goroutine off the CPU, as PCT does by design, would otherwise pass for a
// livelock; such a run goes on to the step bound). The report shows, for each
// goroutine that still ran in the window's second half (one that ran only
// early in the window and has been blocked since is not looping), the
// smallest period its own steps repeat with in that half (and how many
// times), or its last steps if they do not repeat exactly.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "detect/resources.hpp"

namespace weft::check::detail {

class explorer;

class livelock_detector {
 public:
  livelock_detector(explorer& ex, const resource_state& rs, std::uint64_t window)
      : ex_(ex), rs_(rs), window_(window) {}
  void begin_run();
  void on_event(const event& e);

 private:
  void progressed(std::uint64_t step) { last_progress_ = step; }
  void check(std::uint64_t step);
  bool fair(std::uint64_t from) const;
  void report(std::uint64_t step);

  struct pending {
    std::vector<const void*> released;  // by a sender since its last step
  };

  explorer& ex_;
  const resource_state& rs_;
  std::uint64_t window_;
  std::uint64_t last_progress_ = 0;
  std::uint64_t next_check_ = 0;
  std::vector<pending> pending_;  // by goroutine id
  std::unordered_set<const void*> sent_;
};

}  // namespace weft::check::detail
