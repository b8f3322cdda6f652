// weft::context — Go's context package: cancellation, deadlines and
// request-scoped values, passed down a tree of calls and goroutines.
//
//   auto [ctx, cancel] = weft::with_timeout(weft::background(), 2s);
//   weft::go([ctx] {
//     weft::select(weft::on_recv(ctx.done()), weft::on_recv(work));
//     if (weft::error e = ctx.err()) ...;           // weft::canceled / weft::deadline_exceeded
//   });
//   cancel();                                       // idempotent; always call it (Go's defer cancel())
//
// A context is a cheap shared handle on an immutable node of a tree. Nodes:
// background/todo (roots: never cancelled, no deadline, no values), cancel
// nodes (with_cancel, with_deadline, with_timeout) and value nodes (with_value).
//
// A cancel node's state machine: active -> cancelled, once. Cancelling records
// the error, closes done() (exactly once, so every receiver wakes: the close is
// the happens-before edge from cancel to them), cancels every active
// descendant cancel node with the same error, and detaches the node from its
// parent. Never the reverse: cancelling a child leaves its parent alone. A
// deadline node is a cancel node whose timer (weft's clock: virtual time under
// the explorer) cancels it with deadline_exceeded.
//
// Invariants:
//  - err() is success while active and the same error forever after; once
//    done() is closed, err() is non-empty (err is set before the close);
//  - a node is in its parent's child set only while both are active, so a
//    long-lived parent does not accumulate children that were cancelled, or
//    destroyed without being cancelled;
//  - done() of a node that cannot be cancelled (background, todo, values over
//    them) is the nil channel: it blocks forever, and select never picks it.
//
// Derived contexts work anywhere; with_deadline/with_timeout arm a timer, so
// they must be called inside weft::run. A default-constructed context is null:
// deriving from it panics ("cannot create context from nil parent", as Go);
// its accessors answer as background() does.
#pragma once

#include <any>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include "weft/source_location.hpp"
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "weft/chan.hpp"
#include "weft/clock.hpp"
#include "weft/error.hpp"
#include "weft/unit.hpp"

namespace weft {

namespace detail {
struct ctx_node;
struct ctx_access;
}  // namespace detail

class context {
 public:
  // The null context (see above).
  context() noexcept = default;

  // Closed when the context is cancelled; the nil channel if it never can be.
  recv_chan<unit> done() const;
  // Success while active; weft::canceled or weft::deadline_exceeded after.
  error err() const;
  // When the context will be cancelled by a deadline, if it has one.
  std::optional<time_point> deadline() const noexcept;
  // The value of the nearest with_value for key, or an empty std::any.
  std::any value(std::string_view key) const;
  // value(key) as a T: nullopt when absent or of another type.
  template <class T>
  std::optional<T> value_as(std::string_view key) const {
    std::any a = value(key);
    if (const T* p = std::any_cast<T>(&a)) return *p;
    return std::nullopt;
  }

  // False for the null context.
  explicit operator bool() const noexcept { return n_ != nullptr; }
  // The same context (not merely an equivalent one).
  friend bool operator==(const context& a, const context& b) noexcept { return a.n_ == b.n_; }

 private:
  friend struct detail::ctx_access;
  explicit context(std::shared_ptr<detail::ctx_node> n) noexcept : n_(std::move(n)) {}
  std::shared_ptr<detail::ctx_node> n_;
};

// Cancels its context (and every descendant); safe to call many times, from
// any goroutine. A small copyable callable, empty when default-constructed
// (calling it then throws std::bad_function_call, as an empty std::function
// does); it converts to std::function<void()> and, like one, can hold any
// other callable (`weft::cancel_func noop = [] {};`). The one with_cancel
// returns holds only its context: making it allocates nothing.
class cancel_func {
 public:
  cancel_func() noexcept = default;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, cancel_func> && std::is_invocable_v<std::decay_t<F>&>)
  cancel_func(F&& f) : other_(std::forward<F>(f)) {}  // NOLINT: as std::function

  void operator()() const;
  explicit operator bool() const noexcept { return node_ != nullptr || static_cast<bool>(other_); }

 private:
  friend struct detail::ctx_access;
  explicit cancel_func(std::shared_ptr<detail::ctx_node> n) noexcept : node_(std::move(n)) {}
  std::shared_ptr<detail::ctx_node> node_;  // a cancel node, or null
  std::function<void()> other_;
};

// What with_cancel, with_deadline and with_timeout return:
//   auto [ctx, cancel] = weft::with_cancel(parent);
struct context_and_cancel {
  context ctx;
  cancel_func cancel;
};

// The root of every context tree: never cancelled, no deadline, no values.
context background();
// Same as background(), for code that has not decided which context to pass.
context todo();

// A child that is cancelled by cancel() or when the parent is.
context_and_cancel with_cancel(const context& parent);
// A child that is also cancelled (with deadline_exceeded) at d. If the
// parent's deadline is earlier, the child simply inherits it.
context_and_cancel with_deadline(const context& parent, time_point d,
                                 const weft::source_location& site = weft::source_location::current());
// with_deadline(parent, now() + timeout).
context_and_cancel with_timeout(const context& parent, duration timeout,
                                const weft::source_location& site = weft::source_location::current());
// A child carrying key -> value (it shadows the key in ancestors).
context with_value(const context& parent, std::string key, std::any value);

namespace detail {
// How many active cancel children ctx's nearest cancel node has registered
// (for tests and debugging: it must not grow with cancelled children).
std::size_t context_child_count(const context& ctx);
}  // namespace detail

}  // namespace weft
