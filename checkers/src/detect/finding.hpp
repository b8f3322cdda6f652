// What a detector found, in the explorer's raw terms (goroutine ids, object
// addresses, events). A failure carries one; report/describe.cpp turns it into
// the report's named, printable fields, with the same object names as the
// trace (kind#n by first appearance), so a replayed report is identical.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "weft/detail/kernel.hpp"
#include "weft/source_location.hpp"

namespace weft::check::detail {

struct event;

// A plain access (race detector).
struct raw_access {
  std::uint32_t g = 0;
  const void* obj = nullptr;
  std::size_t size = 0;
  bool write = false;
  weft::source_location site{};
  std::uint64_t step = 0;
};

// A link of a wait-for cycle (deadlock) or of a lock-order cycle: goroutine g
// holds `holds` (taken at held_at) and waits for / then takes `wants`
// (requested at wanted_at). For a lock order from another schedule, `holds`
// or `wants` is null when that lock was not used in the reported run; then
// `*_label` says which lock it was.
struct raw_link {
  std::uint32_t g = 0;
  const void* holds = nullptr;
  weft::detail::resource_kind hold_kind = weft::detail::resource_kind::mutex;
  weft::source_location held_at{};
  const void* wants = nullptr;
  weft::detail::resource_kind want_kind = weft::detail::resource_kind::mutex;
  weft::source_location wanted_at{};
  std::uint64_t iteration = 0;  // lock order: the schedule that first showed it
  std::string hold_label, want_label;
  // Deadlock: g holds no part of `holds`; it is a writer waiting for that
  // rw_mutex, and by writer preference the previous link's read lock waits
  // behind it (a reader that read-locks again while a writer is queued).
  bool queued = false;
};

struct raw_starved {
  struct acquirer {
    std::uint32_t g = 0;
    std::uint64_t times = 0;
    weft::source_location site{};
  };
  std::uint32_t g = 0;
  const void* res = nullptr;
  weft::detail::resource_kind kind = weft::detail::resource_kind::mutex;
  weft::source_location requested_at{};
  std::uint64_t passed_over = 0;
  std::uint64_t acquired_before = 0;
  std::vector<acquirer> others;
};

struct raw_loop {
  std::uint32_t g = 0;
  std::vector<std::size_t> period;  // indices into the run's trace: one period (or its last steps)
  std::uint64_t repeats = 0;        // 0: no exact period found
};

struct finding {
  // race
  std::vector<raw_access> accesses;
  // deadlock (partial, or the cycle behind a global one) and lock_order
  std::vector<raw_link> cycle;
  bool partial = false;
  std::vector<std::uint32_t> behind;  // deadlock: blocked on the cycle's locks without being on it
  // starvation
  std::vector<raw_starved> starved;
  // livelock
  std::vector<raw_loop> loops;
  std::uint64_t steps_without_progress = 0;
  std::uint64_t progress_step = 0;  // the last progress (0: none in the run)
  // Free-form lines (e.g. a leak's ignored goroutines, a lock order's note).
  std::vector<std::string> notes;

  bool empty() const noexcept {
    return accesses.empty() && cycle.empty() && starved.empty() && loops.empty() && notes.empty();
  }
};

}  // namespace weft::check::detail
