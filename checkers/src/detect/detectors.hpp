// The detectors of one exploration, behind the explorer's one observer hook:
// each event goes to the shared resource state first, then to the detectors
// that want it. Configured from options (each can be turned off); the
// lock-order graph lives as long as the exploration, everything else is per
// run. Also the leak policy (options::leaks).
#pragma once

#include <memory>

#include "detect/deadlock.hpp"
#include "detect/livelock.hpp"
#include "detect/lock_order.hpp"
#include "detect/race.hpp"
#include "detect/resources.hpp"
#include "detect/starvation.hpp"
#include "explore/explorer.hpp"
#include "weft/check/explore.hpp"

namespace weft::check::detail {

class detectors final : public observer, public leak_policy {
 public:
  detectors(explorer& ex, const options& opt);

  // observer
  void begin_run() override;
  void on_event(const event& e) override;
  void explain(failure& f) override;
  // leak_policy
  bool enabled() const override { return leaks_.enabled; }
  bool ignored(const goroutine_snapshot& s, const std::vector<event>& trace) override;

  // The lock-order graph's bookkeeping (see lock_order.hpp); null when off.
  lock_order_detector* lock_order() noexcept { return lock_order_.get(); }
  void next_run(std::uint64_t iteration);  // call before each run; numbers runs for the lock-order graph

 private:
  leak_options leaks_;
  resource_state rs_;
  std::unique_ptr<race_detector> race_;
  std::unique_ptr<deadlock_detector> deadlock_;
  std::unique_ptr<starvation_detector> starvation_;
  std::unique_ptr<livelock_detector> livelock_;
  std::unique_ptr<lock_order_detector> lock_order_;
  std::uint64_t run_ = 0;
  std::uint64_t iteration_ = 0;
};

}  // namespace weft::check::detail
