// Schedule strings: a run's decision log, compact and versioned.
//
//   "w" + base64url(payload), no padding. payload:
//     u8      format version (1)
//     varint  op_list_version of the build that recorded it (kernel.hpp)
//     varint  seed, iteration, max_steps, jitter (ns), outcome (check::kind), steps
//     varint  length, then bytes: the strategy that found it ("pct:3")
//     varint  number of decisions, then per decision:
//               varint  step - previous decision's step
//               varint  k << 3 | kind
//               varint  choice (schedule: goroutine id)
//               u8      runnable-set fingerprint (schedule decisions only)
//     (format 2 only) varint number of witness runs, then per witness run:
//               varint  its iteration, then its decisions as above
//     u32le   FNV-1a of everything before it (catches truncated copies)
//
// Witness runs (format 2): a lock-order inversion can combine acquisition
// orders seen in different runs; the schedule then carries the earlier runs
// that showed the other orders, and a replay runs them first (in order), so
// the lock-order graph holds the same edges when the reported run closes the
// cycle. Schedules without witnesses are written in format 1.
//
// Both version numbers are checked on decode: moving an interleaving point
// silently changes what a schedule means (shuttle's lesson), so a schedule from
// another op list is refused with an explanation rather than misreplayed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "explore/decision.hpp"

namespace weft::check::detail {

inline constexpr unsigned schedule_format_version = 2;  // the newest this build reads and writes

struct witness_run {
  std::uint64_t iteration = 0;
  std::vector<decision> decisions;
};

struct schedule {
  std::uint64_t seed = 0;
  std::uint64_t iteration = 0;
  std::uint64_t max_steps = 0;
  std::int64_t jitter_ns = 0;
  check::kind outcome = check::kind::ok;
  std::uint64_t steps = 0;
  std::string finder;
  std::vector<decision> decisions;
  std::vector<witness_run> witnesses;  // replayed before the run itself (lock_order)
};

std::string encode_schedule(const schedule& s);
// Throws config_error saying what is wrong with the string and what to do.
schedule decode_schedule(std::string_view text);

}  // namespace weft::check::detail
