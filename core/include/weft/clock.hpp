// weft::clock — the runtime's clock.
//
// On the real scheduler it is the monotonic clock; under the explorer it is
// virtual time that jumps to the next timer when no goroutine can run. Every
// primitive that waits (sleep, timers, context deadlines, the rate limiter)
// reads time from here and nowhere else, so all of them become virtual together.
#pragma once

#include <chrono>
#include <cstdint>

namespace weft {

struct clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<clock>;
  static constexpr bool is_steady = true;
  // The current goroutine's scheduler's time; the monotonic clock outside weft::run.
  static time_point now() noexcept;
};

using time_point = clock::time_point;
using duration = clock::duration;

}  // namespace weft
