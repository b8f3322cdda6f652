// weft::ticker — Go's time.Ticker and time.Tick.
//
// Sends the time on its channel (capacity 1) every period. A receiver that
// falls behind misses ticks rather than queueing them, as in Go. stop() stops
// it (no more ticks; a tick already in the channel stays); reset(d) changes the
// period and restarts the count from now. Periods must be positive
// (panic_error "non-positive interval for NewTicker" otherwise).
#pragma once

#include <memory>

#include "weft/chan.hpp"
#include "weft/clock.hpp"

namespace weft {

namespace detail {
struct timer_state;
}

class ticker {
 public:
  ticker() = default;
  ticker(ticker&&) noexcept = default;
  ticker& operator=(ticker&&) noexcept = default;
  ticker(const ticker&) = delete;
  ticker& operator=(const ticker&) = delete;
  ~ticker();

  recv_chan<time_point> c() const;
  void stop();
  void reset(duration d);

 private:
  friend ticker new_ticker(duration);
  explicit ticker(std::shared_ptr<detail::timer_state> s) noexcept;
  std::shared_ptr<detail::timer_state> s_;
};

ticker new_ticker(duration d);
// Go's time.Tick: a ticker nobody can stop (it lives until weft::run ends); the
// nil channel for d <= 0.
recv_chan<time_point> tick(duration d);

}  // namespace weft
