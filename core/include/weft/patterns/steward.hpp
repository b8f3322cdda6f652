// weft::patterns::steward — watch a goroutine's heartbeat and restart it when
// it goes quiet (Concurrency in Go, "Healing Unhealthy Goroutines").
//
//   // A ward: starts its goroutine(s), stopped by done, pulsing at least every
//   // pulse_interval on the channel it returns (see heartbeat.hpp's pulse()).
//   weft::patterns::ward_fn ward = [](weft::patterns::done_chan done, weft::duration pulse_interval) {
//     auto beats = weft::make_chan<weft::unit>(1);
//     weft::go([=] { ... weft::patterns::pulse(beats); ... });
//     return weft::recv_chan<weft::unit>(beats);
//   };
//   auto watched = weft::patterns::steward(4s, ward);      // itself a ward_fn
//   auto steward_beats = watched(done, 4s);                // starts the steward
//
// steward(timeout, start) returns a ward_fn (the book's newSteward). Calling
// it starts the steward goroutine, which starts the ward with
// start(or_channel(ward_done, done), timeout / 2) and then, in a loop, waits
// for the ward's next pulse. A pulse within `timeout` restarts the wait; no
// pulse for `timeout` means the ward is unhealthy: the steward closes
// ward_done (stopping that ward) and starts a fresh one. A ward that returns
// the nil channel never pulses, so it is restarted every `timeout`; one whose
// heartbeat channel closes is treated as quiet from then on (restarted when
// the timeout runs out), never as a stream of pulses.
//
// Because the result is a ward_fn, the steward pulses too (every
// pulse_interval, non-blocking, on the channel it returns), so a steward can
// be the ward of another steward: stewards all the way up.
//
// Goroutines and who stops them: the steward goroutine returns when done
// closes; it then closes the current ward_done, stops its timer and ticker,
// and closes its heartbeat channel (it owns it). Each ward start makes one
// or_channel goroutine, which returns when that ward's ward_done or done
// closes; the ward's own goroutines must return when their done closes (that
// is the contract of a ward_fn). A non-positive timeout throws panic_error
// from steward(); a non-positive pulse_interval means the steward never
// pulses (Go's time.Tick(0) is nil).
#pragma once

#include <functional>
#include <optional>
#include <utility>

#include "weft/chan.hpp"
#include "weft/clock.hpp"
#include "weft/go.hpp"
#include "weft/panic.hpp"
#include "weft/patterns/detail.hpp"
#include "weft/patterns/or_channel.hpp"
#include "weft/select.hpp"
#include "weft/ticker.hpp"
#include "weft/timer.hpp"
#include "weft/unit.hpp"

namespace weft::patterns {

// The book's startGoroutineFn: start a monitorable goroutine stopped by done,
// pulsing about every pulse_interval on the returned channel.
using ward_fn = std::function<recv_chan<unit>(done_chan done, duration pulse_interval)>;

inline ward_fn steward(duration timeout, ward_fn start) {
  if (timeout <= duration::zero()) throw panic_error("patterns::steward: non-positive timeout");
  return [timeout, start = std::move(start)](done_chan done, duration pulse_interval) -> recv_chan<unit> {
    auto beats = make_chan<unit>(1);
    ticker pulses;  // no ticker, a nil channel: a steward asked never to pulse
    if (pulse_interval > duration::zero()) pulses = new_ticker(pulse_interval);
    weft::go([timeout, start, done = std::move(done), beats, pulses = std::move(pulses)]() mutable {
      chan<unit> ward_done;
      recv_chan<unit> ward_beats;
      auto start_ward = [&] {
        ward_done = make_chan<unit>();
        ward_beats = start(or_channel(ward_done, done), timeout / 2);
      };
      start_ward();
      const recv_chan<time_point> tick = pulses.c();
      timer quiet = new_timer(timeout);
      auto rearm = [&] {
        if (!quiet.stop()) quiet.c().try_recv();  // drop a firing that raced with the pulse
        quiet.reset(timeout);
      };
      for (bool stop = false; !stop;) {
        if (detail::closed_now(done)) break;
        weft::select(weft::on_recv(done, [&](auto) { stop = true; }),
                     weft::on_recv(tick, [&](auto) { detail::try_pulse(beats); }),
                     weft::on_recv(ward_beats,
                                   [&](std::optional<unit> b) {
                                     if (!b) ward_beats = {};  // closed: quiet from now on
                                     else rearm();
                                   }),
                     weft::on_recv(quiet.c(), [&](auto) {
                       // Unhealthy: stop this ward, start another, give it a full timeout.
                       ward_done.close();
                       start_ward();
                       quiet.reset(timeout);
                     }));
      }
      ward_done.close();
      quiet.stop();
      pulses.stop();
      beats.close();
    });
    return beats;
  };
}

}  // namespace weft::patterns
