// The explorer's records: decisions (what a schedule string encodes), trace
// events (what a report and the detectors see) and failures.
//
// A *step* is one interleaving point reached by a goroutine (sched_point, yield,
// spawn, park, goexit) or one advance of the virtual clock. A *decision* is a
// step (or a select, a timer ordering, a jitter amount, a choose(n)) at which
// there was more than one option; steps with a single option are not decisions
// and cost nothing in a schedule.
#pragma once

#include <cstdint>
#include "weft/source_location.hpp"
#include <string>
#include <vector>

#include "detect/finding.hpp"
#include "weft/check/report.hpp"
#include "weft/detail/kernel.hpp"

namespace weft::check::detail {

enum class decision_kind : std::uint8_t {
  schedule = 0,  // which goroutine runs next; the choice is a goroutine id
  random = 1,    // random_below(k): select among k ready cases
  jitter = 2,    // how far the clock moves at this step (choice * jitter / 7)
  timer = 3,     // which of the timers due at one instant fires next
  user = 4,      // check::choose(k)
};
inline constexpr unsigned decision_kinds = 5;
const char* to_string(decision_kind k) noexcept;

struct decision {
  std::uint64_t step = 0;
  std::uint32_t k = 0;       // options (>= 2)
  std::uint32_t choice = 0;  // schedule: the goroutine id chosen; otherwise the value
  decision_kind kind = decision_kind::schedule;
  std::uint8_t fingerprint = 0;  // schedule: hash of the runnable set
  // Not encoded (for counting preemptions and for shrinking): the goroutine
  // that could have continued (0: none); the goroutine that took the step and
  // how many steps it had taken (a position in its own history, which stays
  // put when other goroutines' schedules change); whether the choice was the
  // default one (keep running; else the lowest id; else 0).
  std::uint32_t current = 0;
  std::uint32_t by = 0;
  std::uint64_t local = 0;
  bool is_default = false;

  bool preemption() const noexcept {
    return kind == decision_kind::schedule && current != 0 && choice != current;
  }
};

// What a strategy sees at a decision.
struct decision_point {
  decision_kind kind;
  std::uint32_t k;              // options, >= 2
  std::uint64_t step;           // the step at which it is taken
  std::size_t index;            // its ordinal among this run's decisions (0-based)
  // Schedule decisions: the candidates' goroutine ids, ascending, are base[]
  // with `extra` inserted at position extra_pos (none when extra_pos >= k).
  // A view, not a copy: with thousands of runnable goroutines a step must not
  // cost a copy of the run queue.
  const std::uint32_t* base;
  std::uint32_t extra;
  std::uint32_t extra_pos;
  std::int32_t current;         // schedule: index of the goroutine that can continue, -1 if none
  std::uint32_t last;           // the goroutine that took the step (0: the scheduler)
  std::uint64_t local;          // steps `last` has taken so far (the scheduler's own count for 0)
  std::uint8_t fingerprint;     // schedule: hash of the candidate set
  bool whole_runq;              // schedule: the candidates are exactly the run queue (+ extra)
  bool yielded;                 // schedule: `last` yielded (or slept for no time) at this step

  std::uint32_t id(std::uint32_t i) const noexcept {
    return i < extra_pos ? base[i] : i == extra_pos ? extra : base[i - 1];
  }
  // The index of goroutine `g` among the candidates, or k if it is not one.
  std::uint32_t find(std::uint32_t g) const noexcept {
    std::uint32_t lo = 0, hi = k;
    while (lo < hi) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      if (id(mid) < g)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo < k && id(lo) == g ? lo : k;
  }
};

// A runnable set's fingerprint: one byte of a sum of per-id hashes, so it can
// be kept up to date as goroutines enter and leave the run queue, and a replay
// notices a different set of the same size.
inline std::uint64_t id_hash(std::uint32_t id) noexcept {
  std::uint64_t z = (static_cast<std::uint64_t>(id) + 1) * 0x9e3779b97f4a7c15ull;
  return z ^ (z >> 29);
}
inline std::uint8_t set_fingerprint(std::uint64_t sum) noexcept {
  sum ^= sum >> 32;
  sum ^= sum >> 16;
  sum ^= sum >> 8;
  return static_cast<std::uint8_t>(sum);
}

// Trace events. Issue 5's detectors consume the same records (plus the hb_*
// and access events, which are delivered to observers but not kept in the
// trace unless they are steps).
enum class ev : std::uint8_t {
  point,       // reached an interleaving point: code = op, obj
  yield,       // yielded
  spawn,       // other = the new goroutine
  park,        // blocked: code = wait_reason, obj = what it waits on, site
  exit,        // finished
  ready,       // made `other` runnable
  acquire,     // resource acquired: code = resource_kind, obj, site
  release,     // resource released: code = resource_kind, obj
  clock,       // the clock moved to `time` (g = 0)
  fire,        // a timer fired (g = 0)
  random,      // random_below: other = value, aux = k
  jitter,      // jitter: other = choice, aux = k
  choose,      // check::choose: other = value, aux = k, site
  progress,    // check::progress: site
  read,        // plain read: obj, aux = size, site (after the point that precedes it)
  write,       // plain write: obj, aux = size, site
  fail,        // the run failed here: code = check::kind, site
  hb_release,  // observers only
  hb_acquire,  // observers only
  forget,      // observers only: [obj, obj + aux) is fresh memory (a shared<T> begins or ends)
};

struct event {
  std::uint64_t step = 0;
  std::int64_t time = 0;  // virtual ns since the run began
  const void* obj = nullptr;
  weft::source_location site{};
  std::uint32_t g = 0;
  std::uint32_t other = 0;
  std::uint32_t aux = 0;
  ev type = ev::point;
  std::uint8_t code = 0;
};

// A goroutine as it was when the run failed.
struct held {
  const void* res;
  weft::detail::resource_kind kind;
  weft::source_location site;
};
struct goroutine_snapshot {
  std::uint32_t id = 0;
  std::uint32_t parent = 0;
  bool is_main = false;
  bool running = false;
  bool runnable = false;
  weft::detail::wait_reason reason = weft::detail::wait_reason::none;
  const void* wait_obj = nullptr;
  weft::source_location created_at{};
  weft::source_location blocked_at{};
  bool has_last_op = false;
  weft::detail::op last_op{};
  const void* last_obj = nullptr;
  std::vector<held> holds;
};

struct failure {
  check::kind kind = check::kind::ok;
  std::string message;
  std::string signature;                 // what "the same failure" means for shrinking
  std::vector<std::uint32_t> involved;   // goroutine ids, ascending
  std::vector<goroutine_snapshot> goroutines;  // every live goroutine at the failure
  weft::source_location site{};           // where it happened (assertion), if known
  std::uint64_t step = 0;
  finding found;                         // the detector's evidence (issue 5)

  explicit operator bool() const noexcept { return kind != check::kind::ok; }
};

}  // namespace weft::check::detail
