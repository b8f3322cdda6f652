// The data-race detector: happens-before with vector clocks, FastTrack's
// epochs (Flanagan & Freund, PLDI 2009).
//
// Clocks. Every goroutine t has a vector clock C_t; every synchronisation
// address m (a channel, a slot of a channel's buffer, a mutex, a WaitGroup,
// an atomic, a timer, ...) has a clock L_m. The runtime's primitives state
// Go's memory-model edges with hb_release(m) / hb_acquire(m) (kernel.hpp):
//   release(t, m): L_m := L_m ⊔ C_t; C_t[t]++      (joins: merged edges, like TSan)
//   acquire(t, m): C_t := C_t ⊔ L_m
// and the explorer adds spawn (C_child := C_parent, C_parent[parent]++) and
// timers (arming releases the timer; the scheduler context, which fires it,
// starts from a fresh clock and acquires it, and a goroutine it starts, such
// as after_func's, inherits that clock). Nothing else orders goroutines:
// scheduling, a goroutine's end and weft::atomic's relaxed operations create
// no edge.
//
// Accesses. Memory is a map of disjoint byte ranges ("cells", split when an
// access covers part of one), each with the last write as an epoch (goroutine,
// its clock entry) and the reads since as an epoch, or, while they are
// concurrent with each other, one epoch per reading goroutine (FastTrack's
// read-shared mode; reads ordered before a newer read are dropped). A write
// conflicts with the last write and with every read not ordered before it; a
// read conflicts with the last write. Ordered means e.clock <= C_t[e.goroutine].
// The first conflict fails the run (kind::race) naming both accesses.
//
// Lazy start: most programs never make a plain access. Until the first one,
// the synchronisation events are only logged (a vector append); the first
// access replays the log and the detector runs normally from then on, so an
// access-free run never pays for vector clocks.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "detect/vector_clock.hpp"
#include "explore/decision.hpp"

namespace weft::check::detail {

class explorer;

class race_detector {
 public:
  explicit race_detector(explorer& ex) : ex_(ex) {}
  void begin_run();
  void on_event(const event& e);

 private:
  struct access_rec {
    std::uint32_t g = 0;
    std::uint32_t clock = 0;
    bool write = false;
    const void* obj = nullptr;
    std::uint32_t size = 0;
    weft::source_location site{};
    std::uint64_t step = 0;
  };
  struct cell {
    std::uintptr_t end = 0;
    bool has_write = false;
    access_rec write;
    std::vector<access_rec> reads;  // one epoch, or one per concurrent reader
  };
  struct sync_event {
    ev type;
    std::uint32_t g;
    std::uint32_t other;
    const void* obj;
  };

  vector_clock& clock_of(std::uint32_t g);
  void sync(const sync_event& s);
  void access(const event& e);
  void check_cell(cell& c, const access_rec& a);
  void forget(std::uintptr_t lo, std::uintptr_t hi);
  // Splits the cell containing `at` (if `at` is strictly inside one).
  void split_at(std::uintptr_t at);
  void report(const access_rec& earlier, const access_rec& later);

  explorer& ex_;
  bool active_ = false;
  bool reported_ = false;
  std::vector<sync_event> log_;
  std::vector<vector_clock> clocks_;  // by goroutine id
  std::uint32_t g0_epoch_ = 0;
  std::unordered_map<const void*, vector_clock> sync_;
  std::map<std::uintptr_t, cell> cells_;  // by start address
};

}  // namespace weft::check::detail
