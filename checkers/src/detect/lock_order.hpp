// Lock-order inversions (Linux's lockdep), across every run of an exploration.
//
// The graph: a node per lock (mutex, rw_mutex), an edge A -> B when a
// goroutine acquired B while holding A, kept with the first acquisition that
// showed it (goroutine, both sites, the run and its iteration). Locks are
// identified across runs by explorer::key_of (a goroutine-stack object by its
// goroutine's lineage and stack offset, anything else by address), so the
// `weft::mutex a, b;` of an explored body is the same node in every run.
// Semaphores are left out (they are released by other goroutines as a rule),
// and a cycle whose locks are all only read-locked is not an inversion
// (readers do not exclude each other).
//
// Each new edge A -> B looks for a path B -> ... -> A (breadth first, edges in
// the order they were first seen); one closes a cycle: a potential deadlock,
// even if no run deadlocked. Only the first cycle of an exploration is kept:
// its links, the step and trace position where it closed, and the earlier
// runs whose edges it uses (their decision logs go into the report's
// schedule string, so a replay re-runs them first and closes the same cycle).
//
// Known limit: try_lock is not told apart from lock (the kernel reports both
// the same way), so a program that backs off with try_lock in the opposite
// order is reported too. lock_order_options::enabled turns it off.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "explore/decision.hpp"
#include "explore/explorer.hpp"

namespace weft::check::detail {

class lock_order_detector {
 public:
  explicit lock_order_detector(explorer& ex) : ex_(ex) {}

  // `run` numbers the runs of the exploration (witness replays included),
  // `iteration` is what the run counts as (1-based schedule number).
  void begin_run(std::uint64_t run, std::uint64_t iteration);
  void on_event(const event& e);
  // Off while shrinking another failure: those runs add nothing.
  void set_recording(bool on) noexcept { recording_ = on; }

  bool added_edges() const noexcept { return added_; }
  // The first inversion, once found; found_in_this_run() when this run closed it.
  bool found() const noexcept { return found_; }
  bool found_in_this_run() const noexcept { return found_ && found_run_ == run_; }
  const finding& evidence() const noexcept { return evidence_; }
  const std::string& signature() const noexcept { return signature_; }
  std::uint64_t found_step() const noexcept { return found_step_; }
  std::size_t found_trace_size() const noexcept { return found_trace_; }
  // The goroutines of the reported run that took part (the others ran in earlier runs).
  const std::vector<std::uint32_t>& found_goroutines() const noexcept { return involved_; }
  const std::vector<goroutine_snapshot>& found_snapshot() const noexcept { return snapshot_.goroutines; }
  // The earlier runs the cycle's edges come from, ascending.
  const std::vector<std::uint64_t>& witness_runs() const noexcept { return witness_runs_; }

 private:
  struct held {
    const void* res;
    weft::detail::resource_kind kind;
    weft::source_location site;
    stable_key key;
  };
  struct edge {
    stable_key from, to;
    std::uint32_t g;
    weft::detail::resource_kind from_kind, to_kind;
    weft::source_location from_site, to_site;
    std::uint64_t run, iteration;
  };
  struct pair_hash {
    std::size_t operator()(const std::pair<stable_key, stable_key>& p) const noexcept {
      return stable_key_hash{}(p.first) * 31 + stable_key_hash{}(p.second);
    }
  };

  void add_edge(const held& from, const event& e, const stable_key& to_key);
  bool path(const stable_key& from, const stable_key& to, std::vector<std::size_t>& edges) const;
  void record(std::size_t closing, const std::vector<std::size_t>& path_edges, const event& e);

  explorer& ex_;
  bool recording_ = true;
  std::uint64_t run_ = 0, iteration_ = 0;
  bool added_ = false;
  // this run
  std::vector<std::vector<held>> held_;  // by goroutine id
  std::unordered_map<stable_key, const void*, stable_key_hash> address_;  // first address of a key in this run
  // the exploration
  std::vector<edge> edges_;
  std::unordered_map<std::pair<stable_key, stable_key>, std::size_t, pair_hash> edge_index_;
  std::unordered_map<stable_key, std::vector<std::size_t>, stable_key_hash> out_;
  bool found_ = false;
  std::uint64_t found_run_ = 0, found_step_ = 0;
  std::size_t found_trace_ = 0;
  finding evidence_;
  std::string signature_;
  std::vector<std::uint64_t> witness_runs_;
  std::vector<std::uint32_t> involved_;
  failure snapshot_;  // the goroutines when the cycle closed
};

}  // namespace weft::check::detail
