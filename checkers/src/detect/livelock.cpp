#include "detect/livelock.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "explore/explorer.hpp"

namespace weft::check::detail {

using weft::detail::op;

namespace {

bool sends(op o) noexcept { return o == op::chan_send || o == op::select; }
bool receives(op o) noexcept { return o == op::chan_recv || o == op::select; }
bool communicates(op o) noexcept { return o == op::chan_send || o == op::chan_recv || o == op::select; }

bool is_step(const event& e) noexcept { return resource_state::is_step(e) || e.type == ev::clock; }

// What one trace row of a goroutine looks like, for finding its period.
bool same_action(const event& a, const event& b) noexcept {
  return a.type == b.type && a.code == b.code && a.obj == b.obj && a.site.line() == b.site.line() &&
         a.site.file_name() == b.site.file_name();
}

}  // namespace

void livelock_detector::begin_run() {
  last_progress_ = 0;
  next_check_ = window_;
  pending_.clear();
  sent_.clear();
}

void livelock_detector::on_event(const event& e) {
  const auto& all = rs_.all();
  auto last_op = [&](std::uint32_t g) -> const resource_state::gstate* {
    return g < all.size() && all[g].has_op ? &all[g] : nullptr;
  };
  if (resource_state::is_step(e) && e.g < pending_.size() && !pending_[e.g].released.empty()) {
    // A sender's releases count once it is past its operation without parking.
    if (e.type != ev::park)
      for (const void* a : pending_[e.g].released) sent_.insert(a);
    pending_[e.g].released.clear();
  }
  switch (e.type) {
    case ev::exit:
    case ev::progress:
      progressed(e.step);
      break;
    case ev::ready:
      if (e.g != 0)
        if (const auto* s = last_op(e.g); s != nullptr && communicates(s->last_op)) progressed(e.step);
      break;
    case ev::hb_release:
      if (const auto* s = last_op(e.g); s != nullptr && sends(s->last_op)) {
        if (e.g >= pending_.size()) pending_.resize(e.g + 1);
        pending_[e.g].released.push_back(e.obj);
      }
      break;
    case ev::hb_acquire:
      if (e.g != 0)
        if (const auto* s = last_op(e.g); s != nullptr && receives(s->last_op) && sent_.erase(e.obj) != 0)
          progressed(e.step);
      break;
    default:
      break;
  }
  if (is_step(e) && e.step >= next_check_) check(e.step);
}

bool livelock_detector::fair(std::uint64_t from) const {
  const auto& all = rs_.all();
  for (std::uint32_t g = 1; g < all.size(); ++g) {
    const auto& s = all[g];
    if (s.alive && s.runnable_since != 0 && s.runnable_since <= from) return false;
  }
  return true;
}

void livelock_detector::check(std::uint64_t step) {
  if (ex_.failed()) return;
  if (step - last_progress_ <= window_) {
    next_check_ = last_progress_ + window_ + 1;
    return;
  }
  if (!fair(step - window_)) {
    next_check_ = step + std::max<std::uint64_t>(window_ / 16, 64);
    return;
  }
  report(step);
}

void livelock_detector::report(std::uint64_t step) {
  const std::vector<event>& trace = ex_.trace();
  const std::uint64_t from = step - window_;
  // Each goroutine's own rows in the window, in order.
  std::map<std::uint32_t, std::vector<std::size_t>> rows;
  std::size_t i = trace.size();
  while (i > 0 && trace[i - 1].step > from) --i;
  for (; i < trace.size(); ++i) {
    const event& e = trace[i];
    if (e.g == 0 || e.type == ev::hb_release || e.type == ev::hb_acquire || e.type == ev::forget) continue;
    rows[e.g].push_back(i);
  }
  finding f;
  f.steps_without_progress = step - last_progress_;
  f.progress_step = last_progress_;
  std::vector<std::uint32_t> involved;
  constexpr std::size_t max_period = 512;
  constexpr std::size_t shown_when_aperiodic = 24;
  // Only goroutines that still ran in the window's second half kept running:
  // the window may reach back to the run's start, and a goroutine that took
  // a few steps there and has been blocked since (main, waiting for the
  // others) is not part of the loop.
  const std::uint64_t second_half = step - window_ / 2;
  for (const auto& row : rows) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const auto g = row.first;
    const auto& idx = row.second;
    if (trace[idx.back()].step <= second_half) continue;
    involved.push_back(g);
    raw_loop loop;
    loop.g = g;
    // The smallest p such that the second half of its rows is p-periodic.
    const std::size_t n = idx.size();
    const std::size_t half = n / 2;
    auto at = [&](std::size_t k) -> const event& { return trace[idx[k]]; };
    std::size_t period = 0;
    for (std::size_t p = 1; p <= std::min(max_period, half / 2) && period == 0; ++p) {
      bool ok = true;
      for (std::size_t k = n - half + p; k < n && ok; ++k) ok = same_action(at(k), at(k - p));
      if (ok) period = p;
    }
    if (period != 0) {
      // How far back the repetition goes.
      std::size_t k = n;
      while (k > period && same_action(at(k - 1), at(k - 1 - period))) --k;
      loop.repeats = (n - (k - period)) / period;
      for (std::size_t q = n - period; q < n; ++q) loop.period.push_back(idx[q]);
    } else {
      for (std::size_t q = n > shown_when_aperiodic ? n - shown_when_aperiodic : 0; q < n; ++q)
        loop.period.push_back(idx[q]);
    }
    f.loops.push_back(std::move(loop));
  }
  ex_.fail(check::kind::livelock, "livelock", "livelock", std::move(involved), std::move(f));
}

}  // namespace weft::check::detail
