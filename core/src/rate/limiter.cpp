// weft::rate: x/time/rate's token bucket on weft's clock and timers.
//
// The bucket's state is a few numbers under a spin lock that is held only for
// arithmetic (never across a wait, a park or an interleaving point); waiting is
// a weft timer raced against ctx.done() in a select, exactly as Go's WaitN.
//
// Reading without the lock: a change to the bucket is also a seqlock write
// (the sequence number is odd while the fields change), so an operation that
// would change nothing — a denied allow, anything at rate inf — decides on a
// consistent snapshot and never writes the shared cache line. Under contention
// an exhausted limiter (the case it exists for) then costs each caller a read
// of a line every core keeps shared, not a lock handed from core to core.
// Such an operation acquires the last change it saw (happens-before) and
// releases nothing, as it changed nothing. When the snapshot says the bucket
// would change, or a writer was busy, the operation takes the lock and decides
// again there.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "runtime/lock.hpp"
#include "runtime/sanitizers.hpp"
#include "runtime/scheduler.hpp"
#include "weft/detail/kernel.hpp"
#include "weft/rate.hpp"
#include "weft/select.hpp"
#include "weft/time.hpp"

namespace weft::rate {

namespace detail {

using weft::detail::lock_guard;
using weft::detail::runtime_section;
using weft::detail::spin_lock;

// The bucket's numbers, as values.
struct bucket {
  rate::limit limit = 0;
  int burst = 0;
  double tokens = 0;
  time_point last{};  // when tokens was last updated
  bool has_last = false;  // false: never, i.e. infinitely long ago (the bucket is full)
  time_point last_event{};  // the latest time to act reserved (past or future)

  // The token count at t (time never runs backwards for the bucket).
  std::pair<time_point, double> advance(time_point t) const noexcept;
};

struct limiter_state {
  limiter_state(rate::limit r, int b) : limit(r), burst(b) {}

  // Lock held: the bucket as it is.
  bucket get() const noexcept { return load(std::memory_order_relaxed); }
  // Lock held: change it (a seqlock write). No fences (TSan does not model
  // them): each field is a release store after the odd sequence number, and
  // snapshot() reads each with acquire, so a reader that sees any new field
  // sees the odd number (or a later one) when it looks again.
  void set(const bucket& b) noexcept {
    const std::uint32_t s = seq.load(std::memory_order_relaxed);
    seq.store(s + 1, std::memory_order_relaxed);
    limit.store(b.limit, std::memory_order_release);
    burst.store(b.burst, std::memory_order_release);
    tokens.store(b.tokens, std::memory_order_release);
    last.store(b.last, std::memory_order_release);
    has_last.store(b.has_last, std::memory_order_release);
    last_event.store(b.last_event, std::memory_order_release);
    seq.store(s + 2, std::memory_order_release);
  }
  // No lock: a consistent copy, or false if a change was under way.
  bool snapshot(bucket& b) const noexcept {
    const std::uint32_t s = seq.load(std::memory_order_acquire);
    if ((s & 1) != 0) return false;
    b = load(std::memory_order_acquire);
    return seq.load(std::memory_order_relaxed) == s;
  }

  spin_lock lock;  // serialises changes (and reads that must see the latest)
  // The bucket's fields, written only under lock through set(); atomics so
  // that snapshot() may read them while a change is under way.
  std::atomic<std::uint32_t> seq{0};  // odd while set() runs
  std::atomic<rate::limit> limit;
  std::atomic<int> burst;
  std::atomic<double> tokens{0};
  std::atomic<time_point> last{time_point{}};
  std::atomic<bool> has_last{false};
  std::atomic<time_point> last_event{time_point{}};

 private:
  bucket load(std::memory_order o) const noexcept {
    return bucket{limit.load(o), burst.load(o), tokens.load(o), last.load(o), has_last.load(o), last_event.load(o)};
  }
};

// Held while a limiter's state is read or changed: the internal lock, invisible
// to TSan, plus the happens-before edges a Go mutex would give.
class locked {
 public:
  explicit locked(limiter_state& s) noexcept : s_(s), l_(s.lock) { weft::detail::rt_hb_acquire(&s_); }
  ~locked() { weft::detail::rt_hb_release(&s_); }
  locked(const locked&) = delete;
  locked& operator=(const locked&) = delete;

 private:
  limiter_state& s_;
  runtime_section rs_;
  lock_guard<> l_;
};

namespace {

// Seconds of waiting for `tokens` at `limit` (inf_duration if never).
duration duration_from_tokens(rate::limit limit, double tokens) noexcept {
  if (limit <= 0) return inf_duration;
  const double ns = tokens / limit * 1e9;
  if (!(ns < static_cast<double>(std::numeric_limits<std::int64_t>::max()))) return inf_duration;
  if (ns <= static_cast<double>(std::numeric_limits<std::int64_t>::min())) return duration::min();
  return duration(static_cast<std::int64_t>(ns));
}

double tokens_from_duration(rate::limit limit, duration d) noexcept {
  if (limit <= 0) return 0;
  return std::chrono::duration<double>(d).count() * limit;
}

time_point saturating_add(time_point t, duration d) noexcept {
  if (d > duration::zero() && t > time_point::max() - d) return time_point::max();
  return t + d;
}

}  // namespace

std::pair<time_point, double> bucket::advance(time_point t) const noexcept {
  duration elapsed = duration::max();
  if (has_last) elapsed = t < last ? duration::zero() : t - last;
  double n = tokens + tokens_from_duration(limit, elapsed);
  if (n > static_cast<double>(burst)) n = static_cast<double>(burst);
  return {t, n};
}

}  // namespace detail

limit every(duration interval) noexcept {
  if (interval <= duration::zero()) return inf;
  return 1.0 / std::chrono::duration<double>(interval).count();
}

limit per(int events, duration d) noexcept {
  if (events <= 0) return 0;
  return every(d / events);
}

std::string wait_error::message() const {
  if (why == reason::exceeds_burst)
    return "rate: Wait(n=" + std::to_string(n) + ") exceeds limiter's burst " + std::to_string(burst);
  return "rate: Wait(n=" + std::to_string(n) + ") would exceed context deadline";
}

// ------------------------------------------------------------------ reservation

duration reservation::delay() const { return delay_from(now()); }

duration reservation::delay_from(time_point t) const noexcept {
  if (!ok_) return inf_duration;
  if (time_to_act_ <= t) return duration::zero();
  return time_to_act_ - t;
}

void reservation::cancel() { cancel_at(now()); }

void reservation::cancel_at(time_point t) {
  if (!ok_ || lim_ == nullptr) return;
  weft::detail::sched_point(weft::detail::op::user, lim_.get());
  detail::limiter_state& st = *lim_;
  detail::locked l(st);
  detail::bucket s = st.get();
  const int tokens = tokens_;
  tokens_ = 0;  // only the first cancel gives anything back
  if (s.limit == inf || tokens == 0 || time_to_act_ < t) return;
  // Tokens reserved after this one (up to last_event) stay reserved.
  const double restore =
      static_cast<double>(tokens) - detail::tokens_from_duration(limit_, s.last_event - time_to_act_);
  if (restore <= 0) return;
  auto [t2, n] = s.advance(t);
  n += restore;
  if (n > static_cast<double>(s.burst)) n = static_cast<double>(s.burst);
  s.last = t2;
  s.has_last = true;
  s.tokens = n;
  if (time_to_act_ == s.last_event) {
    const time_point prev = time_to_act_ + detail::duration_from_tokens(limit_, -static_cast<double>(tokens));
    if (!(prev < t2)) s.last_event = prev;
  }
  st.set(s);
}

// ------------------------------------------------------------------ limiter

limiter::limiter(rate::limit r, int b) : s_(std::make_shared<detail::limiter_state>(r, b)) {}

rate::limit limiter::limit() const {
  detail::locked l(*s_);
  return s_->get().limit;
}

int limiter::burst() const {
  detail::locked l(*s_);
  return s_->get().burst;
}

double limiter::tokens() const { return tokens_at(now()); }

double limiter::tokens_at(time_point t) const {
  detail::locked l(*s_);
  return s_->get().advance(t).second;
}

namespace {

// What a reservation records, without the handle on the limiter (Go's
// reserveN returns a Reservation by value holding a plain pointer; copying our
// shared handle would cost two atomic operations on a line every caller
// shares, for allow(), which only wants ok).
struct grant {
  bool ok = false;
  int tokens = 0;
  time_point time_to_act{};
  rate::limit limit = 0;
};

// Go's reserveN on the bucket b: what to grant, and whether b changes.
grant decide(detail::bucket& b, time_point t, int n, duration max_future_reserve, bool& changed) noexcept {
  grant r;
  changed = false;
  r.limit = b.limit;
  if (b.limit == inf) {
    r.ok = true;
    r.tokens = n;
    r.time_to_act = t;
    return r;
  }
  if (b.limit == 0) {
    // No refill: the burst is all there will ever be.
    if (b.burst >= n) {
      r.ok = true;
      b.burst -= n;
      changed = true;
    }
    r.time_to_act = t;
    return r;  // tokens 0: cancelling gives nothing back
  }
  auto [t2, tokens] = b.advance(t);
  tokens -= n;
  duration wait = duration::zero();
  if (tokens < 0) wait = detail::duration_from_tokens(b.limit, -tokens);
  r.ok = n <= b.burst && wait <= max_future_reserve;
  if (r.ok) {
    r.tokens = n;
    r.time_to_act = detail::saturating_add(t2, wait);
    b.last = t2;
    b.has_last = true;
    b.tokens = tokens;
    b.last_event = r.time_to_act;
    changed = true;
  }
  return r;
}

// Go's reserveN: on a snapshot if that changes nothing (see the top of this
// file), else under the limiter's lock.
grant reserve_core(detail::limiter_state& s, time_point t, int n, duration max_future_reserve) {
  weft::detail::sched_point(weft::detail::op::user, &s);
  bool changed = false;
  {
    detail::runtime_section rs;
    detail::bucket b;
    if (s.snapshot(b)) {
      const grant r = decide(b, t, n, max_future_reserve, changed);
      if (!changed) {
        weft::detail::rt_hb_acquire(&s);
        return r;
      }
    }
  }
  detail::locked l(s);
  detail::bucket b = s.get();
  const grant r = decide(b, t, n, max_future_reserve, changed);
  if (changed) s.set(b);
  return r;
}

}  // namespace

reservation limiter::reserve_impl(time_point t, int n, duration max_future_reserve) {
  const grant g = reserve_core(*s_, t, n, max_future_reserve);
  reservation r;
  r.lim_ = s_;
  r.ok_ = g.ok;
  r.tokens_ = g.tokens;
  r.time_to_act_ = g.time_to_act;
  r.limit_ = g.limit;
  return r;
}

bool limiter::allow() { return allow_n(now(), 1); }
bool limiter::allow_n(time_point t, int n) { return reserve_core(*s_, t, n, duration::zero()).ok; }
bool limiter::allow_n(int n) { return allow_n(now(), n); }

reservation limiter::reserve() { return reserve_n(now(), 1); }
reservation limiter::reserve_n(time_point t, int n) { return reserve_impl(t, n, inf_duration); }
reservation limiter::reserve_n(int n) { return reserve_n(now(), n); }

error limiter::wait(const context& ctx, const weft::source_location& where) { return wait_n(ctx, 1, where); }

error limiter::wait_n(const context& ctx, int n, const weft::source_location& where) {
  int burst;
  rate::limit lim;
  {
    detail::locked l(*s_);
    const detail::bucket b = s_->get();
    burst = b.burst;
    lim = b.limit;
  }
  if (n > burst && lim != inf) return error(wait_error(wait_error::reason::exceeds_burst, n, burst), where);
  if (error e = ctx.err()) return e;
  const time_point t = now();
  duration wait_limit = inf_duration;
  if (auto d = ctx.deadline()) wait_limit = *d - t;
  reservation r = reserve_impl(t, n, wait_limit);
  if (!r.ok()) return error(wait_error(wait_error::reason::would_exceed_deadline, n, burst), where);
  const duration delay = r.delay_from(t);
  if (delay == duration::zero()) return {};
  timer tm = new_timer(delay);
  error result;
  select(on_recv(tm.c(), where), on_recv(ctx.done(), [&](auto) {
           // Done before our turn: give the tokens back, which may let others go sooner.
           r.cancel();
           result = ctx.err();
         }));
  tm.stop();
  return result;
}

void limiter::set_limit(rate::limit r) { set_limit_at(now(), r); }

void limiter::set_limit_at(time_point t, rate::limit r) {
  weft::detail::sched_point(weft::detail::op::user, s_.get());
  detail::locked l(*s_);
  detail::bucket b = s_->get();
  auto [t2, n] = b.advance(t);
  b.last = t2;
  b.has_last = true;
  b.tokens = n;
  b.limit = r;
  s_->set(b);
}

void limiter::set_burst(int b) { set_burst_at(now(), b); }

void limiter::set_burst_at(time_point t, int b) {
  weft::detail::sched_point(weft::detail::op::user, s_.get());
  detail::locked l(*s_);
  detail::bucket bk = s_->get();
  auto [t2, n] = bk.advance(t);
  bk.last = t2;
  bk.has_last = true;
  bk.tokens = n;
  bk.burst = b;
  s_->set(bk);
}

// ------------------------------------------------------------------ multi_limiter

void multi_limiter::sort() {
  std::stable_sort(parts_->begin(), parts_->end(),
                   [](const part& a, const part& b) { return a.limit() < b.limit(); });
}

error multi_limiter::wait(const context& ctx, const weft::source_location& where) { return wait_n(ctx, 1, where); }

error multi_limiter::wait_n(const context& ctx, int n, const weft::source_location& where) {
  for (const part& p : *parts_)
    if (error e = p.wait_n(ctx, n, where)) return e;
  return {};
}

rate::limit multi_limiter::limit() const {
  rate::limit tightest = inf;
  for (const part& p : *parts_) tightest = std::min(tightest, p.limit());
  return tightest;
}

}  // namespace weft::rate
