#include "detect/detectors.hpp"

#include <string>

#include "report/build.hpp"

namespace weft::check::detail {

detectors::detectors(explorer& ex, const options& opt) : leaks_(opt.leaks) {
  if (opt.race.enabled) race_ = std::make_unique<race_detector>(ex);
  // Always present: it also explains global deadlocks; `partial` decides the rest.
  deadlock_ = std::make_unique<deadlock_detector>(ex, rs_, opt.deadlock.partial);
  if (opt.starvation.enabled) starvation_ = std::make_unique<starvation_detector>(ex, opt.starvation.threshold);
  if (opt.livelock.enabled) livelock_ = std::make_unique<livelock_detector>(ex, rs_, opt.livelock.window);
  if (opt.lock_order.enabled) lock_order_ = std::make_unique<lock_order_detector>(ex);
}

void detectors::next_run(std::uint64_t iteration) {
  ++run_;
  iteration_ = iteration;
}

void detectors::begin_run() {
  rs_.begin_run();
  if (race_) race_->begin_run();
  if (starvation_) starvation_->begin_run();
  if (livelock_) livelock_->begin_run();
  if (lock_order_) lock_order_->begin_run(run_, iteration_);
}

void detectors::on_event(const event& e) {
  if (e.type == ev::fail) return;
  rs_.on_event(e);
  if (race_) race_->on_event(e);
  if (lock_order_) lock_order_->on_event(e);
  if (starvation_) starvation_->on_event(e);
  if (e.type == ev::park) deadlock_->on_park(e);
  if (livelock_) livelock_->on_event(e);
}

void detectors::explain(failure& f) { deadlock_->explain(f); }

bool detectors::ignored(const goroutine_snapshot& s, const std::vector<event>& trace) {
  if (leaks_.ignore.empty() && !leaks_.ignore_if) return false;
  auto contains = [](const char* hay, const std::string& needle) {
    return hay != nullptr && std::string_view(hay).find(needle) != std::string_view::npos;
  };
  for (const std::string& needle : leaks_.ignore) {
    if (needle.empty()) continue;
    for (const weft::source_location* site : {&s.created_at, &s.blocked_at})
      if (contains(site->function_name(), needle) || contains(site->file_name(), needle)) return true;
  }
  if (leaks_.ignore_if) {
    namer name;
    name_objects(trace, trace.size(), name);
    return leaks_.ignore_if(describe_goroutine(s, nullptr, name));
  }
  return false;
}

}  // namespace weft::check::detail
