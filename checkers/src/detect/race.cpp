#include "detect/race.hpp"

#include <algorithm>
#include <string>

#include "explore/explorer.hpp"

namespace weft::check::detail {

namespace {

std::string site_key(const weft::source_location& s, bool write) {
  return std::string(s.file_name() != nullptr ? s.file_name() : "?") + ":" + std::to_string(s.line()) +
         (write ? ":w" : ":r");
}

}  // namespace

void race_detector::begin_run() {
  active_ = false;
  reported_ = false;
  log_.clear();
  for (vector_clock& c : clocks_) c.clear();
  g0_epoch_ = 0;
  sync_.clear();
  cells_.clear();
}

vector_clock& race_detector::clock_of(std::uint32_t g) {
  if (g >= clocks_.size()) clocks_.resize(g + 1);
  vector_clock& c = clocks_[g];
  if (c.empty()) c.set(g, 1);  // a goroutine's first epoch (main, or one we met before its spawn)
  return c;
}

void race_detector::on_event(const event& e) {
  switch (e.type) {
    case ev::spawn:
    case ev::hb_release:
    case ev::hb_acquire: {
      const sync_event s{e.type, e.g, e.other, e.obj};
      if (active_)
        sync(s);
      else
        log_.push_back(s);
      return;
    }
    case ev::read:
    case ev::write:
      if (reported_) return;
      if (!active_) {
        active_ = true;
        for (const sync_event& s : log_) sync(s);
        log_.clear();
      }
      access(e);
      return;
    case ev::forget:
      if (active_) {
        const auto lo = reinterpret_cast<std::uintptr_t>(e.obj);
        forget(lo, lo + std::max<std::uint32_t>(e.aux, 1));
      }
      return;
    default:
      return;
  }
}

void race_detector::sync(const sync_event& s) {
  switch (s.type) {
    case ev::spawn: {
      // Started by goroutine s.g (0: a timer on the scheduler's context).
      const std::uint32_t child = s.other;
      vector_clock parent = clock_of(s.g);  // a copy: clock_of(child) may grow clocks_
      vector_clock& c = clock_of(child);
      c.join(parent);
      c.set(child, std::max<std::uint32_t>(c.get(child), 1));
      clock_of(s.g).tick(s.g);
      return;
    }
    case ev::hb_release: {
      vector_clock& c = clock_of(s.g);
      sync_[s.obj].join(c);
      c.tick(s.g);
      return;
    }
    case ev::hb_acquire: {
      if (s.g == 0) {
        // A timer fires on the scheduler's context: it knows only what armed
        // this timer, not what earlier timers brought.
        if (clocks_.empty()) clocks_.resize(1);
        clocks_[0].clear();
        clocks_[0].set(0, ++g0_epoch_);
      }
      auto it = sync_.find(s.obj);
      if (it != sync_.end()) clock_of(s.g).join(it->second);
      return;
    }
    default:
      return;
  }
}

void race_detector::split_at(std::uintptr_t at) {
  auto it = cells_.upper_bound(at);
  if (it == cells_.begin()) return;
  --it;
  if (it->first < at && at < it->second.end) {
    cell right = it->second;
    it->second.end = at;
    cells_.emplace(at, std::move(right));
  }
}

void race_detector::forget(std::uintptr_t lo, std::uintptr_t hi) {
  if (cells_.empty()) return;
  split_at(lo);
  split_at(hi);
  auto it = cells_.lower_bound(lo);
  while (it != cells_.end() && it->first < hi) it = cells_.erase(it);
}

void race_detector::access(const event& e) {
  const vector_clock& c = clock_of(e.g);
  access_rec a;
  a.g = e.g;
  a.clock = c.get(e.g);
  a.write = e.type == ev::write;
  a.obj = e.obj;
  a.size = std::max<std::uint32_t>(e.aux, 1);
  a.site = e.site;
  a.step = e.step;
  const auto lo = reinterpret_cast<std::uintptr_t>(e.obj);
  const std::uintptr_t hi = lo + a.size;
  // The common case: exactly one cell, the variable's own.
  auto it = cells_.find(lo);
  if (it != cells_.end() && it->second.end == hi) {
    check_cell(it->second, a);
    return;
  }
  split_at(lo);
  split_at(hi);
  std::uintptr_t at = lo;
  it = cells_.lower_bound(lo);
  while (at < hi && !reported_) {
    if (it == cells_.end() || it->first > at) {
      // A gap: fresh memory.
      const std::uintptr_t gap_end = it == cells_.end() ? hi : std::min(hi, it->first);
      cell fresh;
      fresh.end = gap_end;
      it = cells_.emplace_hint(it, at, std::move(fresh));
    }
    check_cell(it->second, a);
    at = it->second.end;
    ++it;
  }
}

void race_detector::check_cell(cell& x, const access_rec& a) {
  const vector_clock& c = clocks_[a.g];
  auto ordered = [&](const access_rec& e) { return e.g == a.g || e.clock <= c.get(e.g); };
  if (!a.write) {
    if (x.reads.size() == 1 && x.reads[0].g == a.g && x.reads[0].clock == a.clock) return;  // same epoch
    if (x.has_write && !ordered(x.write)) return report(x.write, a);
    // Reads ordered before this one are dropped: the set stays an antichain.
    x.reads.erase(std::remove_if(x.reads.begin(), x.reads.end(), ordered), x.reads.end());
    x.reads.push_back(a);
    return;
  }
  if (x.has_write && x.write.g == a.g && x.write.clock == a.clock && x.reads.empty()) return;  // same epoch
  if (x.has_write && !ordered(x.write)) return report(x.write, a);
  for (const access_rec& r : x.reads)
    if (!ordered(r)) return report(r, a);
  x.has_write = true;
  x.write = a;
  x.reads.clear();
}

void race_detector::report(const access_rec& earlier, const access_rec& later) {
  reported_ = true;
  finding f;
  for (const access_rec* r : {&earlier, &later}) {
    raw_access a;
    a.g = r->g;
    a.obj = r->obj;
    a.size = r->size;
    a.write = r->write;
    a.site = r->site;
    a.step = r->step;
    f.accesses.push_back(a);
  }
  std::string k1 = site_key(earlier.site, earlier.write), k2 = site_key(later.site, later.write);
  if (k2 < k1) std::swap(k1, k2);
  std::vector<std::uint32_t> involved{earlier.g};
  if (later.g != earlier.g) involved.push_back(later.g);
  ex_.fail(check::kind::race, "data race", "race:" + k1 + "|" + k2, std::move(involved), std::move(f));
}

}  // namespace weft::check::detail
