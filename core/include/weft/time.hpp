// weft time: sleep, now, and the timer family (timer.hpp, ticker.hpp).
//
// All of it reads the runtime's clock (clock.hpp): monotonic time on the real
// scheduler, virtual time under the explorer, where a 10 s sleep takes no
// real time at all.
#pragma once

#include "weft/source_location.hpp"

#include "weft/clock.hpp"
#include "weft/ticker.hpp"
#include "weft/timer.hpp"

namespace weft {

inline time_point now() noexcept { return clock::now(); }

// Block the calling goroutine for at least d (not at all for d <= 0).
void sleep(duration d, const weft::source_location& loc = weft::source_location::current());
void sleep_until(time_point t, const weft::source_location& loc = weft::source_location::current());

// Time since t (Go's time.Since).
inline duration since(time_point t) noexcept { return now() - t; }

}  // namespace weft
