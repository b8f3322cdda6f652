// weft::patterns::heartbeat — a worker that tells its listeners it is alive.
//
//   // Interval: a pulse every second while the worker waits, for input or for
//   // its consumer; silence for longer than that means it is stuck.
//   auto [pulses, results] = weft::patterns::heartbeat(done, 1s, jobs, work);
//   for (;;) {
//     bool out = false;
//     weft::select(weft::on_recv(pulses),
//                  weft::on_recv(results, [&](auto r) { if (!r) out = true; else use(*r); }),
//                  weft::on_recv(weft::after(2s), [&](auto) { out = true; /* unhealthy */ }));
//     if (out) break;
//   }
//
//   // Per work unit: one pulse as each unit of work begins.
//   auto [started, results] = weft::patterns::heartbeat(done, jobs, work);
//
// Both run fn over the values of in, in order, like a pipeline stage (fn(v), or
// fn(done, v) if fn takes done; without fn the values pass through), and
// return {heartbeat, results}.
//
// Pulses never block the worker: the heartbeat channel has room for one pulse,
// and a pulse that finds it full is dropped (the book's `select { case
// heartbeat <- struct{}{}: default: }`), because a listener needs to know that
// the worker was alive since it last looked, not how often. So a listener that
// is not listening costs the worker nothing, and one that is sees a pulse
// within an interval (interval kind) or one per unit started (per-unit kind;
// read a pulse before each result and they strictly alternate).
//
// Why an interval heartbeat pulses only while waiting: pulses come from the
// worker's own select loop, so a worker wedged inside fn (a deadlock, an
// infinite loop) stops pulsing, which is exactly what a listener needs to see.
//
// One goroutine each. It returns when in is closed and drained or done closes,
// stops its ticker, and closes both channels (it owns them). Done takes
// priority (patterns/detail.hpp). A non-positive interval throws
// panic_error("non-positive interval for NewTicker") from the call.
#pragma once

#include <optional>
#include <utility>

#include "weft/chan.hpp"
#include "weft/clock.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"
#include "weft/select.hpp"
#include "weft/ticker.hpp"
#include "weft/unit.hpp"

namespace weft::patterns {

template <class R>
struct heartbeat_channels {
  recv_chan<unit> heartbeat;  // pulses; closed when the worker returns
  recv_chan<R> results;       // closed when the worker returns
};

// Pulse without blocking: for workers of your own (a steward's ward, say).
// The channel should have room for one pulse (make_chan<unit>(1)).
inline void pulse(const send_chan<unit>& heartbeat) { detail::try_pulse(heartbeat); }

namespace detail {
struct identity_work {
  template <class T>
  T operator()(T v) const {
    return v;
  }
};
}  // namespace detail

// Interval heartbeat: a pulse every `interval` while waiting for input or for
// the consumer to take a result.
template <class T, class F>
auto heartbeat(done_chan done, duration interval, recv_chan<T> in, F fn)
    -> heartbeat_channels<detail::work_result_t<F, T>> {
  using R = detail::work_result_t<F, T>;
  auto beats = make_chan<unit>(1);
  auto out = make_chan<R>();
  ticker pulses = new_ticker(interval);
  weft::go([done = std::move(done), in = std::move(in), fn = std::move(fn), beats, out,
            pulses = std::move(pulses)]() mutable {
    const recv_chan<time_point> tick = pulses.c();
    auto on_tick = [&](auto) { detail::try_pulse(beats); };
    bool stop = false;
    while (!stop) {
      // Wait for a unit of work, pulsing.
      std::optional<T> v;
      while (!stop && !v) {
        if (detail::closed_now(done)) break;
        weft::select(weft::on_recv(done, [&](auto) { stop = true; }), weft::on_recv(tick, on_tick),
                     weft::on_recv(in, [&](std::optional<T> x) {
                       if (x)
                         v = std::move(x);
                       else
                         stop = true;
                     }));
      }
      if (!v) break;
      // The same send case is offered on every round: its value is moved out
      // only by the round that sends it, so R need not be copyable.
      auto offer = weft::on_send(out, detail::invoke_work(fn, done, std::move(*v)));
      for (;;) {
        if (detail::closed_now(done)) {
          stop = true;
          break;
        }
        const auto i = weft::select(weft::on_recv(done, [&](auto) { stop = true; }), weft::on_recv(tick, on_tick),
                                    offer);
        if (i != 1) break;
      }
    }
    pulses.stop();
    out.close();
    beats.close();
  });
  return {beats, out};
}
template <class T, class F>
auto heartbeat(done_chan done, duration interval, const chan<T>& in, F fn) {
  return heartbeat(std::move(done), interval, recv_chan<T>(in), std::move(fn));
}
template <class T>
heartbeat_channels<T> heartbeat(done_chan done, duration interval, recv_chan<T> in) {
  return heartbeat(std::move(done), interval, std::move(in), detail::identity_work{});
}
template <class T>
heartbeat_channels<T> heartbeat(done_chan done, duration interval, const chan<T>& in) {
  return heartbeat(std::move(done), interval, recv_chan<T>(in), detail::identity_work{});
}

// Per-unit heartbeat: one pulse as each unit of work begins.
template <class T, class F>
auto heartbeat(done_chan done, recv_chan<T> in, F fn) -> heartbeat_channels<detail::work_result_t<F, T>> {
  using R = detail::work_result_t<F, T>;
  auto beats = make_chan<unit>(1);
  auto out = make_chan<R>();
  weft::go([done = std::move(done), in = std::move(in), fn = std::move(fn), beats, out]() mutable {
    while (auto v = detail::recv_or_done(done, in)) {
      detail::try_pulse(beats);
      if (!detail::send_or_done(done, out, detail::invoke_work(fn, done, std::move(*v)))) break;
    }
    out.close();
    beats.close();
  });
  return {beats, out};
}
template <class T, class F>
auto heartbeat(done_chan done, const chan<T>& in, F fn) {
  return heartbeat(std::move(done), recv_chan<T>(in), std::move(fn));
}
template <class T>
heartbeat_channels<T> heartbeat(done_chan done, recv_chan<T> in) {
  return heartbeat(std::move(done), std::move(in), detail::identity_work{});
}
template <class T>
heartbeat_channels<T> heartbeat(done_chan done, const chan<T>& in) {
  return heartbeat(std::move(done), recv_chan<T>(in), detail::identity_work{});
}

}  // namespace weft::patterns
