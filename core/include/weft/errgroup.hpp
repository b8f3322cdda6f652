// weft::errgroup — golang.org/x/sync/errgroup: run subtasks in goroutines,
// wait for all of them, get the first error, cancel the rest early.
//
//   auto [g, ctx] = weft::errgroup::with_context(parent);
//   for (auto& url : urls)
//     g.go([&, url, ctx = ctx]() -> weft::error { return fetch(ctx, url); });
//   if (weft::error e = g.wait()) ...;     // the first error; ctx is cancelled by now
//
// State: the number of active goroutines (a wait group), the first failure
// (error or exception) and, with set_limit(n), n slots that go() takes before
// starting a goroutine and the goroutine gives back when it ends.
//
// Rules (x/sync's): go() blocks while the limit is reached; try_go() starts
// the goroutine only if a slot is free. The first task to fail cancels the
// group's context (with_context); wait() waits for every task started so far,
// cancels the context, then reports. set_limit must not change the limit while
// tasks are active (panic_error "errgroup: modify limit while N goroutines in
// the group are still active"); a negative limit means none.
//
// Exceptions: a task that throws does not take the process down (as it would
// in a bare weft::go) and is not flattened into an error either: the group
// keeps the first exception (with its type), cancels the context like an
// error, and wait() rethrows it once every task has finished — as TBB's
// task_group and C++'s futures do, and as x/sync's Wait re-panics. A thrown
// exception wins over returned errors; later exceptions are dropped.
//
// Tasks return weft::error (or void: success). The group is movable, not
// copyable; it must outlive the tasks' uses of it (wait() before it dies).
// Everything a task did happens before wait() returns.
#pragma once

#include <memory>
#include "weft/source_location.hpp"
#include <type_traits>
#include <utility>

#include "weft/context.hpp"
#include "weft/error.hpp"
#include "weft/go.hpp"

namespace weft {

namespace detail {
struct errgroup_state;
// Take a slot (blocks at the limit) and count the task in.
void errgroup_enter(errgroup_state& s, const weft::source_location& where);
bool errgroup_try_enter(errgroup_state& s);
// The goroutine could not be started: give back what enter took.
void errgroup_abandon(errgroup_state& s) noexcept;
// The goroutine's body: run the task, record its failure, leave.
void errgroup_run(errgroup_state& s, error (*call)(void*), void* fn);
}  // namespace detail

struct errgroup_and_context;

class errgroup {
 public:
  // A group with no limit and no context (Go's zero Group).
  errgroup();
  errgroup(errgroup&&) noexcept = default;
  errgroup& operator=(errgroup&&) noexcept = default;
  errgroup(const errgroup&) = delete;
  errgroup& operator=(const errgroup&) = delete;
  ~errgroup();

  // A group and a context derived from parent, cancelled when a task first
  // fails or when wait() returns:  auto [g, ctx] = weft::errgroup::with_context(parent);
  static errgroup_and_context with_context(const context& parent);

  // Run fn in a new goroutine, once a slot is free.
  template <class F>
  void go(F&& fn, const weft::source_location& site = weft::source_location::current()) {
    check<F>();
    detail::errgroup_enter(*s_, site);
    start(std::forward<F>(fn), site);
  }
  // Run fn in a new goroutine only if a slot is free now.
  template <class F>
  bool try_go(F&& fn, const weft::source_location& site = weft::source_location::current()) {
    check<F>();
    if (!detail::errgroup_try_enter(*s_)) return false;
    start(std::forward<F>(fn), site);
    return true;
  }

  // Wait for every task, cancel the context, then rethrow the first exception
  // or return the first error.
  error wait(const weft::source_location& where = weft::source_location::current());

  // At most n active tasks (n < 0: no limit).
  void set_limit(int n);

 private:
  template <class F>
  static void check() {
    using D = std::decay_t<F>;
    static_assert(std::is_invocable_r_v<error, D&> || std::is_same_v<std::invoke_result_t<D&>, void>,
                  "weft::errgroup: a task takes no arguments and returns weft::error (or void)");
  }
  template <class D>
  static error call(void* p) {
    D& f = *static_cast<D*>(p);
    if constexpr (std::is_void_v<std::invoke_result_t<D&>>) {
      f();
      return {};
    } else {
      return f();
    }
  }
  template <class F>
  void start(F&& fn, const weft::source_location& site) {
    using D = std::decay_t<F>;
    try {
      weft::go([s = s_, f = D(std::forward<F>(fn))]() mutable { detail::errgroup_run(*s, &call<D>, &f); }, site);
    } catch (...) {
      detail::errgroup_abandon(*s_);
      throw;
    }
  }

  std::shared_ptr<detail::errgroup_state> s_;
};

struct errgroup_and_context {
  errgroup g;
  context ctx;
};

}  // namespace weft
