#include "detect/deadlock.hpp"

#include <algorithm>
#include <string>

#include "explore/explorer.hpp"

namespace weft::check::detail {

using weft::detail::resource_kind;
using weft::detail::wait_reason;


void deadlock_detector::blockers(std::uint32_t g, bool with_semaphores, std::vector<std::uint32_t>& out) const {
  out.clear();
  const auto& all = rs_.all();
  if (g >= all.size()) return;
  const resource_state::gstate& s = all[g];
  if (!s.alive || !s.parked || !resource_state::resource_wait(s.reason)) return;
  if (s.reason == wait_reason::semaphore && !with_semaphores) return;
  // The eager check (without semaphores) trusts only locks released by their
  // lockers; see resource_state::handed_off.
  if (!with_semaphores && rs_.handed_off(s.obj)) return;
  if (const auto* hs = rs_.holders(s.obj)) {
    for (const resource_state::hold& h : *hs) {
      if (s.reason == wait_reason::rw_rlock && h.kind != resource_kind::rw_write) continue;  // readers share
      out.push_back(h.g);
    }
  }
  if (s.reason == wait_reason::rw_rlock) {
    // Writer preference: a reader arriving behind a pending writer waits for it.
    for (std::uint32_t w = 1; w < all.size(); ++w)
      if (w != g && all[w].alive && all[w].parked && all[w].reason == wait_reason::rw_lock && all[w].obj == s.obj)
        out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

std::vector<std::uint32_t> deadlock_detector::deadlocked(bool with_semaphores) const {
  const auto& all = rs_.all();
  std::vector<char> in(all.size(), 0);
  std::vector<std::uint32_t> d;
  for (std::uint32_t g = 1; g < all.size(); ++g) {
    const auto& s = all[g];
    if (s.alive && s.parked && resource_state::resource_wait(s.reason) &&
        (with_semaphores || s.reason != wait_reason::semaphore)) {
      in[g] = 1;
      d.push_back(g);
    }
  }
  std::vector<std::uint32_t> bl;
  for (bool changed = !d.empty(); changed;) {
    changed = false;
    for (std::uint32_t g : d) {
      if (!in[g]) continue;
      blockers(g, with_semaphores, bl);
      const bool stuck = std::any_of(bl.begin(), bl.end(), [&](std::uint32_t b) { return b < in.size() && in[b]; });
      if (!stuck) {
        in[g] = 0;
        changed = true;
      }
    }
  }
  d.erase(std::remove_if(d.begin(), d.end(), [&](std::uint32_t g) { return !in[g]; }), d.end());
  return d;
}

bool deadlock_detector::find_cycle(const std::vector<std::uint32_t>& d, std::uint32_t start, bool with_semaphores,
                                   finding& out) const {
  if (d.empty()) return false;
  if (!std::binary_search(d.begin(), d.end(), start)) start = d.front();
  // Walk "waits for its first blocker in D" until a goroutine repeats.
  std::vector<std::uint32_t> path;
  std::vector<std::uint32_t> bl;
  std::uint32_t g = start;
  for (;;) {
    auto seen = std::find(path.begin(), path.end(), g);
    if (seen != path.end()) {
      path.erase(path.begin(), seen);
      break;
    }
    path.push_back(g);
    blockers(g, with_semaphores, bl);
    auto next = std::find_if(bl.begin(), bl.end(), [&](std::uint32_t b) { return std::binary_search(d.begin(), d.end(), b); });
    if (next == bl.end()) return false;  // not reached for a member of D
    g = *next;
  }
  // path: g0 waits for g1 (which holds what g0 wants), g1 for g2, ... back to g0.
  // Link i: path[i] holds what path[i-1] waits for, and waits for what path[i+1] holds.
  const auto& all = rs_.all();
  const std::size_t n = path.size();
  out.cycle.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t me = path[i];
    const std::uint32_t prev = path[(i + n - 1) % n];
    raw_link l;
    l.g = me;
    l.wants = all[me].obj;
    l.want_kind = wanted_kind(all[me].reason);
    l.wanted_at = all[me].site;
    l.holds = all[prev].obj;
    l.hold_kind = wanted_kind(all[prev].reason);
    bool holds = false;
    if (const auto* hs = rs_.holders(l.holds)) {
      for (const resource_state::hold& h : *hs)
        if (h.g == me) {
          l.hold_kind = h.kind;
          l.held_at = h.site;
          holds = true;
          break;
        }
    }
    // `me` blocks prev without holding the lock: a pending writer that a
    // reader waits behind (writer preference, see blockers()). Say so rather
    // than describe a hold that does not exist.
    if (!holds) {
      l.queued = true;
      l.hold_kind = resource_kind::rw_write;
    }
    out.cycle.push_back(l);
  }
  // Start the cycle at its lowest goroutine id (a stable reading order).
  auto lowest = std::min_element(out.cycle.begin(), out.cycle.end(),
                                 [](const raw_link& a, const raw_link& b) { return a.g < b.g; });
  std::rotate(out.cycle.begin(), lowest, out.cycle.end());
  out.behind.clear();
  for (std::uint32_t x : d)
    if (std::find(path.begin(), path.end(), x) == path.end()) out.behind.push_back(x);
  return true;
}

void deadlock_detector::on_park(const event& e) {
  if (!partial_ || ex_.failed()) return;
  const auto why = static_cast<wait_reason>(e.code);
  if (!resource_state::resource_wait(why) || why == wait_reason::semaphore) return;
  const std::vector<std::uint32_t> d = deadlocked(false);
  if (d.empty()) return;
  finding f;
  f.partial = true;
  if (!find_cycle(d, e.g, false, f)) return;
  std::vector<std::string> sites;
  for (const raw_link& l : f.cycle) sites.push_back(site_text(l.wanted_at));
  std::sort(sites.begin(), sites.end());
  std::string sig = "deadlock:cycle";
  for (const std::string& s : sites) sig += "|" + s;
  // Everyone else asleep too, and no timer to wake anyone: it is also Go's
  // global deadlock; say so, and list every goroutine as Go does.
  bool all_asleep = !ex_.timers_pending();
  std::vector<std::uint32_t> asleep;
  const auto& all = rs_.all();
  for (std::uint32_t g = 1; g < all.size() && all_asleep; ++g) {
    if (!all[g].alive) continue;
    if (all[g].parked)
      asleep.push_back(g);
    else
      all_asleep = false;
  }
  if (all_asleep) {
    f.partial = false;
    ex_.fail(check::kind::deadlock, "all goroutines are asleep - deadlock!", std::move(sig), std::move(asleep),
             std::move(f));
    return;
  }
  ex_.fail(check::kind::deadlock, "deadlock", std::move(sig), d, std::move(f));
}

void deadlock_detector::explain(failure& f) {
  if (f.kind != check::kind::deadlock || !f.found.cycle.empty()) return;
  const std::vector<std::uint32_t> d = deadlocked(true);
  if (d.empty()) return;
  finding x;
  if (find_cycle(d, d.front(), true, x)) {
    f.found.cycle = std::move(x.cycle);
    f.found.behind = std::move(x.behind);
  }
}

}  // namespace weft::check::detail
