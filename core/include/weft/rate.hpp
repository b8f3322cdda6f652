// weft::rate — a token-bucket rate limiter (golang.org/x/time/rate) and the
// seeds' multi_limiter that combines several.
//
//   weft::rate::limiter lim(weft::rate::per(2, 1s), 1);   // 2 events/s, bursts of 1
//   if (weft::error e = lim.wait(ctx)) return e;          // blocks until a token is ours
//   if (lim.allow()) { ... }                              // or: drop the event
//   auto r = lim.reserve(); weft::sleep(r.delay());       // or: reserve a future token
//
// State: a bucket of `burst` tokens, refilled at `limit` tokens per second
// (continuously, as a real number), initially full; `last`, when tokens was
// last brought up to date; `last_event`, the latest reserved time to act. A
// reservation of n tokens takes them now, letting the count go negative: the
// deficit is the time the holder must wait (time_to_act). Invariants: tokens
// <= burst; time_to_act of successive reservations never decreases (for a
// fixed limit). Everything is x/time/rate's arithmetic, including its corner
// cases: rate::inf allows everything (burst ignored); a zero limit allows
// `burst` events in total, then none.
//
// wait_n(ctx, n) fails at once — with a rate::wait_error, messages as Go's —
// when n exceeds the burst (unless the limit is inf) or when the token would
// come after ctx's deadline; returns ctx.err() if ctx is done first (giving its
// reservation back, which may let others through sooner). All time is weft's
// clock (now(), timers): virtual under the explorer.
//
// limiter and multi_limiter are cheap shared handles, like chan: copies share
// one bucket (Go passes *Limiter around). Every method may be called from any
// goroutine. A limiter's operations are ordered by an internal lock, which
// also orders the callers' memory as a Go mutex would (happens-before) — except
// that one which changes nothing (a denied allow, anything at rate inf) reads
// the bucket without the lock: it happens after every change it saw and,
// having changed nothing, releases nothing (so such calls scale across cores).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include "weft/source_location.hpp"
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/clock.hpp"
#include "weft/context.hpp"
#include "weft/error.hpp"

namespace weft::rate {

// Events per second (Go's rate.Limit).
using limit = double;
// The infinite rate: allows every event, even with a zero burst.
inline constexpr limit inf = std::numeric_limits<double>::max();
// What a reservation that is not ok() says it must wait.
inline constexpr duration inf_duration = duration::max();

// A limit of one event every `interval` (inf for interval <= 0).
limit every(duration interval) noexcept;
// The seeds' Per: `events` events per `d`, i.e. every(d / events). Zero (no
// events) for events <= 0.
limit per(int events, duration d) noexcept;

namespace detail {
struct limiter_state;
}

// Why wait/wait_n failed without waiting (ctx's own errors are returned as is).
class wait_error final : public error_base {
 public:
  enum class reason { exceeds_burst, would_exceed_deadline };
  wait_error(reason r, int n, int burst) noexcept : why(r), n(n), burst(burst) {}
  // "rate: Wait(n=3) exceeds limiter's burst 1" /
  // "rate: Wait(n=1) would exceed context deadline" (Go's texts).
  std::string message() const override;
  reason why;
  int n;
  int burst;
};

// A future token (or n), taken from the bucket when reserved.
class reservation {
 public:
  reservation() noexcept = default;  // not ok
  reservation(reservation&&) noexcept = default;
  reservation& operator=(reservation&&) noexcept = default;
  // Move-only: cancelling twice would give tokens back twice.
  reservation(const reservation&) = delete;
  reservation& operator=(const reservation&) = delete;

  // Whether the limiter can grant the tokens (within the maximum wait asked
  // for); false when n exceeded the burst. If false, delay() is inf_duration
  // and cancel() does nothing.
  bool ok() const noexcept { return ok_; }
  // How long to wait before acting (zero: act now).
  duration delay() const;
  duration delay_from(time_point t) const noexcept;
  time_point time_to_act() const noexcept { return time_to_act_; }
  // The holder will not act: give back as many tokens as later reservations
  // allow. Only the first call counts.
  void cancel();
  void cancel_at(time_point t);

 private:
  friend class limiter;
  std::shared_ptr<detail::limiter_state> lim_;
  bool ok_ = false;
  int tokens_ = 0;
  time_point time_to_act_{};
  rate::limit limit_ = 0;  // the limit when reserved (it may change later)
};

class limiter {
 public:
  // Allows events up to rate r with bursts of at most b tokens; initially full.
  limiter(rate::limit r, int b);
  // Go's zero Limiter: allows nothing.
  limiter() : limiter(0, 0) {}

  rate::limit limit() const;
  int burst() const;
  // Tokens available now (negative while reservations are outstanding).
  double tokens() const;
  double tokens_at(time_point t) const;

  // An event may happen now (takes a token if so); never waits.
  bool allow();
  bool allow_n(time_point t, int n);
  bool allow_n(int n);

  // Reserve n tokens, however long they take (ok() false only if n > burst).
  reservation reserve();
  reservation reserve_n(time_point t, int n);
  reservation reserve_n(int n);

  // Block until a token (n tokens) is ours, ctx is done, or it is clear that
  // the tokens would come too late for ctx's deadline.
  error wait(const context& ctx = background(),
             const weft::source_location& where = weft::source_location::current());
  error wait_n(const context& ctx, int n, const weft::source_location& where = weft::source_location::current());

  // Change the limit or the burst; reservations already made keep theirs.
  void set_limit(rate::limit r);
  void set_limit_at(time_point t, rate::limit r);
  void set_burst(int b);
  void set_burst_at(time_point t, int b);

  // The same bucket.
  friend bool operator==(const limiter& a, const limiter& b) noexcept { return a.s_ == b.s_; }

 private:
  reservation reserve_impl(time_point t, int n, duration max_future_reserve);
  std::shared_ptr<detail::limiter_state> s_;
};

// What multi_limiter combines: anything with wait(ctx) -> error and limit()
// (the seeds' RateLimiter interface). limiter and multi_limiter are.
template <class L>
concept rate_limiter = requires(L& l, const context& ctx) {
  { l.wait(ctx) } -> std::convertible_to<error>;
  { l.limit() } -> std::convertible_to<rate::limit>;
};

// The seeds' MultiLimiter: an event needs a token from every limiter. wait()
// waits on each in turn, tightest limit first; limit() is the tightest.
//
//   weft::rate::multi_limiter api(weft::rate::limiter(weft::rate::per(2, 1s), 2),
//                                 weft::rate::limiter(weft::rate::per(10, 1min), 10));
//   weft::rate::multi_limiter read_file(api, disk);  // nests
//
// Arguments are held by value (limiter and multi_limiter share their state, so
// this shares the buckets), or through a pointer or std::shared_ptr for any
// other rate_limiter type. No limiters: never waits, limit() is inf.
class multi_limiter {
 public:
  template <class... L>
    requires((sizeof...(L) > 0 && (... && !std::is_same_v<std::remove_cvref_t<L>, multi_limiter>)) ||
             sizeof...(L) > 1)
  explicit multi_limiter(L&&... ls) {
    parts_ = std::make_shared<std::vector<part>>();
    (parts_->push_back(make_part(std::forward<L>(ls))), ...);
    sort();
  }
  multi_limiter() : parts_(std::make_shared<std::vector<part>>()) {}

  error wait(const context& ctx = background(), const weft::source_location& where = weft::source_location::current());
  error wait_n(const context& ctx, int n, const weft::source_location& where = weft::source_location::current());
  rate::limit limit() const;
  std::size_t size() const noexcept { return parts_->size(); }

 private:
  struct part {
    std::function<error(const context&, int, const weft::source_location&)> wait_n;
    std::function<rate::limit()> limit;
  };

  template <class L>
  static part make_part(L&& l) {
    using T = std::remove_cvref_t<L>;
    if constexpr (std::is_pointer_v<T>) {
      static_assert(rate_limiter<std::remove_pointer_t<T>>, "multi_limiter: needs wait(ctx) and limit()");
      return bind(l);
    } else if constexpr (requires { typename T::element_type; requires std::is_same_v<T, std::shared_ptr<typename T::element_type>>; }) {
      static_assert(rate_limiter<typename T::element_type>, "multi_limiter: needs wait(ctx) and limit()");
      return bind(std::shared_ptr<typename T::element_type>(std::forward<L>(l)));
    } else {
      static_assert(rate_limiter<T>, "multi_limiter: needs wait(ctx) and limit()");
      return bind(std::make_shared<T>(std::forward<L>(l)));
    }
  }
  // P: a pointer or shared_ptr to a rate_limiter.
  template <class P>
  static part bind(P p) {
    part out;
    out.wait_n = [p](const context& ctx, int n, const weft::source_location& where) -> error {
      if constexpr (requires { p->wait_n(ctx, n, where); }) {
        return p->wait_n(ctx, n, where);
      } else if constexpr (requires { p->wait_n(ctx, n); }) {
        return p->wait_n(ctx, n);
      } else {
        for (int i = 0; i < n; ++i)
          if (error e = p->wait(ctx)) return e;
        return {};
      }
    };
    out.limit = [p]() -> rate::limit { return p->limit(); };
    return out;
  }
  void sort();

  std::shared_ptr<std::vector<part>> parts_;
};

}  // namespace weft::rate
