// sleep, timers and tickers on the scheduler's timer service.
//
// A sleeping goroutine's timer lives on its own stack and is started by the
// park's unlock callback, i.e. only once the goroutine is off its stack, so the
// timer can never ready a goroutine that is still running (Go's resetForSleep).
//
// timer_state is shared by the user's handle and, while armed, by the
// scheduler (the keepalive), so a dropped handle does not stop a timer.
#include <memory>

#include "runtime/g.hpp"
#include "runtime/scheduler.hpp"
#include "weft/go.hpp"
#include "weft/panic.hpp"
#include "weft/time.hpp"

namespace weft {

namespace detail {

struct timer_state : timer {
  chan<time_point> ch;                          // nil for after_func
  std::shared_ptr<std::function<void()>> func;  // after_func's body
  weft::source_location site;
  scheduler* sched = nullptr;  // after_func spawns on it
};

namespace {

void fire_send(timer* t, time_point now) noexcept {
  auto* s = static_cast<timer_state*>(t);
  time_point v = now;
  chan_offer(s->ch.core(), &v);  // full: the receiver has not taken the last one; drop
}

void fire_func(timer* t, time_point) noexcept {
  auto* s = static_cast<timer_state*>(t);
  auto fn = s->func;
  // Fired from inside the scheduler; spawn on it directly (no interleaving point).
  try {
    s->sched->spawn(task([fn] { (*fn)(); }), s->site, nullptr);
  } catch (...) {
    // Out of memory for a goroutine: nothing sensible to do inside a timer.
  }
}

std::shared_ptr<timer_state> make_state(duration d, bool with_chan) {
  auto s = std::make_shared<timer_state>();
  if (with_chan) s->ch = make_chan<time_point>(1);
  s->when = now() + d;
  return s;
}

struct sleeper : timer {
  g* gp;
};

}  // namespace
}  // namespace detail

void sleep_until(time_point t, const weft::source_location& loc) {
  detail::sched_point(detail::op::sleep, nullptr);
  detail::g* self = detail::require_current("weft::sleep");
  if (t <= now()) return;
  detail::sleeper s;
  s.when = t;
  s.gp = self;
  s.fire = [](detail::timer* t, time_point) noexcept { detail::ready(static_cast<detail::sleeper*>(t)->gp); };
  detail::runtime_section rs;
  try {
    detail::park(
        detail::wait_reason::sleep, nullptr,
        [](void* p) noexcept {
          auto* sl = static_cast<detail::sleeper*>(p);
          try {
            sl->gp->sched->timer_start(sl, {});
          } catch (...) {
            detail::ready(sl->gp);  // could not arm (out of memory): wake at once
          }
        },
        &s, loc);
  } catch (...) {
    detail::timer_stop(&s);  // unwinding: the timer must not outlive this frame
    throw;
  }
}

void sleep(duration d, const weft::source_location& loc) {
  if (d <= duration::zero()) {
    detail::sched_point(detail::op::sleep, nullptr);
    return;
  }
  sleep_until(now() + d, loc);
}

// ------------------------------------------------------------------ timer

timer::timer(std::shared_ptr<detail::timer_state> s) noexcept : s_(std::move(s)) {}
timer::~timer() = default;

recv_chan<time_point> timer::c() const { return s_ ? recv_chan<time_point>(s_->ch) : recv_chan<time_point>(); }

bool timer::stop() {
  if (!s_) return false;
  detail::sched_point(detail::op::timer, s_.get());
  return detail::timer_stop(s_.get());
}

bool timer::reset(duration d) {
  if (!s_) return false;
  detail::sched_point(detail::op::timer, s_.get());
  return detail::timer_reset(s_.get(), now() + d, duration::zero(), s_);
}

timer new_timer(duration d) {
  detail::sched_point(detail::op::timer, nullptr);
  detail::runtime_section rs;
  auto s = detail::make_state(d, true);
  s->fire = &detail::fire_send;
  detail::timer_start(s.get(), s);
  return timer(std::move(s));
}

timer after_func(duration d, std::function<void()> fn, const weft::source_location& site) {
  detail::sched_point(detail::op::timer, nullptr);
  detail::runtime_section rs;
  if (!fn) throw panic_error("weft::after_func: fn is empty");
  auto s = detail::make_state(d, false);
  s->func = std::make_shared<std::function<void()>>(std::move(fn));
  s->site = site;
  s->sched = detail::current_scheduler();
  s->fire = &detail::fire_func;
  detail::timer_start(s.get(), s);
  return timer(std::move(s));
}

recv_chan<time_point> after(duration d) { return new_timer(d).c(); }

// ------------------------------------------------------------------ ticker

ticker::ticker(std::shared_ptr<detail::timer_state> s) noexcept : s_(std::move(s)) {}
ticker::~ticker() = default;

recv_chan<time_point> ticker::c() const { return s_ ? recv_chan<time_point>(s_->ch) : recv_chan<time_point>(); }

void ticker::stop() {
  if (!s_) return;
  detail::sched_point(detail::op::timer, s_.get());
  detail::timer_stop(s_.get());
}

void ticker::reset(duration d) {
  if (d <= duration::zero()) throw panic_error("non-positive interval for Ticker.Reset");
  if (!s_) throw panic_error("Reset called on uninitialized Ticker");
  detail::sched_point(detail::op::timer, s_.get());
  detail::timer_reset(s_.get(), now() + d, d, s_);
}

ticker new_ticker(duration d) {
  if (d <= duration::zero()) throw panic_error("non-positive interval for NewTicker");
  detail::sched_point(detail::op::timer, nullptr);
  detail::runtime_section rs;
  auto s = detail::make_state(d, true);
  s->period = d;
  s->fire = &detail::fire_send;
  detail::timer_start(s.get(), s);
  return ticker(std::move(s));
}

recv_chan<time_point> tick(duration d) {
  if (d <= duration::zero()) return {};
  return new_ticker(d).c();
}

}  // namespace weft
