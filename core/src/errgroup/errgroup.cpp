// weft::errgroup on weft's own primitives, as x/sync's is on Go's: a
// wait_group for the active tasks, a buffered channel of `limit` slots, a mutex
// for the first failure, and the derived context's cancel function.
#include "weft/errgroup.hpp"

#include <exception>
#include <mutex>
#include <string>

#include "runtime/g.hpp"
#include "weft/chan.hpp"
#include "weft/mutex.hpp"
#include "weft/panic.hpp"
#include "weft/wait_group.hpp"

namespace weft {

namespace detail {

struct errgroup_state {
  cancel_func cancel;  // empty unless made by with_context
  wait_group wg;
  chan<unit> sem;      // the nil channel: no limit

  mutex mu;            // guards the failure record
  error err;           // the first error returned
  std::exception_ptr exc;  // the first exception thrown
  bool failed = false;

  void fail(error e, std::exception_ptr x) {
    bool first;
    {
      std::lock_guard l(mu);
      if (x && !exc) exc = std::move(x);
      if (e && !err) err = std::move(e);
      first = !failed;
      failed = true;
    }
    if (first && cancel) cancel();
  }
  void leave() {
    if (!sem.is_nil()) sem.recv();
    wg.done();
  }
};

void errgroup_enter(errgroup_state& s, const weft::source_location& where) {
  if (!s.sem.is_nil()) s.sem.send(unit{}, where);
  s.wg.add(1);
}

bool errgroup_try_enter(errgroup_state& s) {
  // Like x/sync's select with default: may barge ahead of a blocked go().
  if (!s.sem.is_nil() && !s.sem.try_send(unit{})) return false;
  s.wg.add(1);
  return true;
}

void errgroup_abandon(errgroup_state& s) noexcept {
  try {
    s.leave();
  } catch (...) {
    // leave() cannot block here (the slot was just taken by this goroutine).
  }
}

void errgroup_run(errgroup_state& s, error (*call)(void*), void* fn) {
  error e;
  std::exception_ptr x;
  try {
    e = call(fn);
  } catch (const forced_unwind&) {
    throw;  // the runtime is tearing down: not the task's failure
  } catch (...) {
    x = std::current_exception();
  }
  if (e || x) s.fail(std::move(e), std::move(x));
  s.leave();
}

}  // namespace detail

errgroup::errgroup() : s_(std::make_shared<detail::errgroup_state>()) {}
errgroup::~errgroup() = default;

errgroup_and_context errgroup::with_context(const context& parent) {
  auto [ctx, cancel] = with_cancel(parent);
  errgroup g;
  g.s_->cancel = std::move(cancel);
  return {std::move(g), std::move(ctx)};
}

error errgroup::wait(const weft::source_location& where) {
  s_->wg.wait(where);
  if (s_->cancel) s_->cancel();
  error e;
  std::exception_ptr x;
  {
    std::lock_guard l(s_->mu);
    e = s_->err;
    x = s_->exc;
  }
  if (x) std::rethrow_exception(x);
  return e;
}

void errgroup::set_limit(int n) {
  if (n < 0) {
    s_->sem = chan<unit>();
    return;
  }
  if (!s_->sem.is_nil() && s_->sem.len() != 0)
    throw panic_error("errgroup: modify limit while " + std::to_string(s_->sem.len()) +
                      " goroutines in the group are still active");
  s_->sem = make_chan<unit>(static_cast<std::size_t>(n));
}

}  // namespace weft
