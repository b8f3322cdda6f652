// weft::timer — Go's time.Timer: new_timer, after, after_func.
//
// A timer fires once, `d` after it is (re)started: a channel timer sends the
// time it fired on its channel (capacity 1, so firing never blocks), an
// after_func timer starts its function in a goroutine of its own.
//
// States: pending -> fired | stopped; reset() makes it pending again. stop()
// returns true iff it moved pending -> stopped (the timer will not fire);
// reset() returns whether it was pending. Like Go (before 1.23), a value that
// fired before stop() or reset() may still be in the channel: drain it if that
// matters (`if (!t.stop()) t.c().try_recv();`). A handle is move-only; dropping
// it does not stop the timer, which lives until it fires or is stopped.
#pragma once

#include <functional>
#include <memory>
#include "weft/source_location.hpp"

#include "weft/chan.hpp"
#include "weft/clock.hpp"
#include "weft/detail/task.hpp"

namespace weft {

namespace detail {
struct timer_state;
}

class timer {
 public:
  timer() = default;  // no timer: c() is the nil channel, stop() and reset() do nothing
  timer(timer&&) noexcept = default;
  timer& operator=(timer&&) noexcept = default;
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  ~timer();

  // The channel the firing time is sent on (the nil channel for after_func).
  recv_chan<time_point> c() const;
  bool stop();
  bool reset(duration d);

 private:
  friend timer new_timer(duration);
  friend timer after_func(duration, std::function<void()>, const weft::source_location&);
  explicit timer(std::shared_ptr<detail::timer_state> s) noexcept;
  std::shared_ptr<detail::timer_state> s_;
};

// Go's time.NewTimer.
timer new_timer(duration d);
// Go's time.AfterFunc: fn runs in its own goroutine each time the timer fires.
timer after_func(duration d, std::function<void()> fn,
                 const weft::source_location& site = weft::source_location::current());
// Go's time.After: a channel that receives the time once, after d.
recv_chan<time_point> after(duration d);

}  // namespace weft
