// weft::patterns::replicated — send one request to n handlers, keep the first
// answer, cancel the rest (Concurrency in Go, "Replicated Requests").
//
//   std::optional<reply> r = weft::patterns::replicated(done, 10,
//       [&](weft::patterns::done_chan cancel, std::size_t replica) { return ask(servers[replica], cancel); });
//
//   // or with a context: each replica gets a context cancelled once one answers
//   auto r = weft::patterns::replicated(ctx, 10, [&](const weft::context& ctx, std::size_t replica) { ... });
//
// Trades resources for latency: the answer comes as fast as the fastest
// replica's. Replicas should be alike (same request, same kind of handler) and
// must stop promptly when cancelled, since replicated waits for all of them.
//
// Goroutines: one per replica, each computing fn(cancel, i) (fn(cancel) also
// works) and offering its answer until cancel closes; plus, for the done form,
// one that closes cancel when done closes or an answer is in. The call blocks
// until the first answer arrives (or done / ctx is done: then it returns
// nullopt), then cancels the other replicas and waits for every goroutine it
// started to return, the book's wg.Wait(): nothing is left running when it
// returns. fn is shared by the replicas, which call it concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/chan.hpp"
#include "weft/context.hpp"
#include "weft/go.hpp"
#include "weft/patterns/detail.hpp"
#include "weft/select.hpp"
#include "weft/wait_group.hpp"

namespace weft::patterns {

namespace detail {

// fn(stop, replica), or fn(stop) for replicas that need not know which they are.
template <class F, class Arg>
decltype(auto) invoke_replica(F& fn, const Arg& arg, std::size_t replica) {
  if constexpr (std::is_invocable_v<F&, const Arg&, std::size_t>)
    return fn(arg, replica);
  else
    return fn(arg);
}
template <class F, class Arg>
using replica_result_t =
    std::decay_t<decltype(invoke_replica(std::declval<F&>(), std::declval<const Arg&>(), std::size_t{}))>;

// Starts the replicas (into wg), each given `arg`, and returns the first
// answer, or nullopt once `stop` closes. The caller then cancels and waits.
template <class R, class Arg, class F>
std::optional<R> first_answer(wait_group& wg, const done_chan& stop, const Arg& arg, std::size_t n, F& fn) {
  auto answers = make_chan<R>();
  for (std::size_t i = 0; i < n; ++i)
    // By reference: the caller waits for every replica before these go away.
    wg.go([&fn, &arg, &stop, answers, i] { send_or_done(stop, answers, invoke_replica(fn, arg, i)); });
  std::optional<R> first;
  weft::select(weft::on_recv(stop), weft::on_recv(answers, [&](std::optional<R> v) { first = std::move(v); }));
  return first;
}

}  // namespace detail

// fn(cancel, replica) -> R, called once per replica, concurrently; cancel
// closes when the first answer is in or done closes. nullopt: done closed
// before any replica answered (or n == 0).
template <class F>
auto replicated(done_chan done, std::size_t n, F fn) -> std::optional<detail::replica_result_t<F, done_chan>> {
  using R = detail::replica_result_t<F, done_chan>;
  if (n == 0) return std::nullopt;
  auto cancel = make_chan<unit>();
  auto answered = make_chan<unit>();
  wait_group wg;
  // cancel = done or answered, by a goroutine this call also waits for (an
  // or_channel would leave its goroutine to end after we return).
  wg.go([&done, &answered, cancel] {
    weft::select(weft::on_recv(done), weft::on_recv(answered));
    cancel.close();
  });
  const done_chan stop = cancel;
  std::optional<R> first = detail::first_answer<R>(wg, stop, stop, n, fn);
  answered.close();
  wg.wait();
  return first;
}

// fn(ctx, replica) -> R, with ctx a child of `ctx` cancelled once the first
// answer is in. nullopt: ctx was done before any replica answered (or n == 0).
template <class F>
auto replicated(const context& ctx, std::size_t n, F fn) -> std::optional<detail::replica_result_t<F, context>> {
  using R = detail::replica_result_t<F, context>;
  if (n == 0) return std::nullopt;
  auto [child, cancel] = with_cancel(ctx);
  const done_chan stop = child.done();
  wait_group wg;
  std::optional<R> first = detail::first_answer<R>(wg, stop, child, n, fn);
  cancel();
  wg.wait();
  return first;
}

}  // namespace weft::patterns
