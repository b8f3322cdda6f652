// Deadlocks with their Coffman conditions.
//
// The wait-for graph: a goroutine parked on a mutex-like resource waits for
// the goroutines that could let it in:
//   mutex                 -> its holder
//   rw_mutex, write lock  -> every holder (readers and the writer): it needs all gone
//   rw_mutex, read lock   -> the writer holding it, and the writers pending on it
//                            (writer preference: a pending writer goes first)
//   semaphore             -> its holders (only when explaining a global deadlock:
//                            a semaphore is often released by a goroutine that
//                            did not acquire it, so holding says little)
// Channels, WaitGroups and conds have no owner: a goroutine parked on one
// waits for nobody in particular; it appears in the report's goroutine list
// and DOT graph but never in a cycle.
//
// Partial deadlock, the moment it forms: at every park on a mutex or
// rw_mutex, the deadlocked set D is the greatest set of parked goroutines
// each of which waits for some member of D (start from every goroutine parked
// on such a resource, drop those that wait for nobody in D, until nothing
// changes). A non-empty D can never move again, whatever the goroutines
// outside it do, as long as a lock is unlocked by the goroutine that locked it.
// Go allows otherwise, so a lock that has been unlocked by a non-holder in this
// run is left out of the eager check (it is still explained in a global
// deadlock), and deadlock_options::partial turns the eager check off. D holds a
// cycle; following each member's first waited-for member in D from the
// parking goroutine finds one. The run fails with kind::deadlock, the cycle
// as links (who holds what, acquired where, while waiting for what,
// requested where) and D's other members as "blocked behind it".
//
// A global deadlock (the explorer's: nothing can run, no timer) gets the same
// explanation when its blocked goroutines hold such a cycle.
#pragma once

#include <cstdint>
#include <vector>

#include "detect/resources.hpp"

namespace weft::check::detail {

class explorer;

class deadlock_detector {
 public:
  deadlock_detector(explorer& ex, const resource_state& rs, bool partial) : ex_(ex), rs_(rs), partial_(partial) {}
  void on_park(const event& e);
  void explain(failure& f);

 private:
  // Who g waits for (goroutine ids), per the table above.
  void blockers(std::uint32_t g, bool with_semaphores, std::vector<std::uint32_t>& out) const;
  // The deadlocked set among goroutines parked on resources (see above).
  std::vector<std::uint32_t> deadlocked(bool with_semaphores) const;
  // A cycle in D through (or reached from) `start`, and its links.
  bool find_cycle(const std::vector<std::uint32_t>& d, std::uint32_t start, bool with_semaphores,
                  finding& out) const;

  explorer& ex_;
  const resource_state& rs_;
  bool partial_;
};

}  // namespace weft::check::detail
