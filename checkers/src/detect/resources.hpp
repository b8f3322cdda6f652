// What the deadlock and starvation detectors share: per goroutine, whether it
// is alive, parked (on what, why, where) or runnable, and its last
// interleaving point; per mutex-like resource (mutex, rw_mutex, semaphore),
// who holds it, how and since where. Kept from the run's events alone.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "explore/decision.hpp"

namespace weft::check::detail {

// The resource a goroutine parked for `r` wants (mutex unless rw or semaphore).
inline weft::detail::resource_kind wanted_kind(weft::detail::wait_reason r) noexcept {
  using weft::detail::resource_kind;
  using weft::detail::wait_reason;
  switch (r) {
    case wait_reason::rw_rlock:
      return resource_kind::rw_read;
    case wait_reason::rw_lock:
      return resource_kind::rw_write;
    case wait_reason::semaphore:
      return resource_kind::semaphore;
    default:
      return resource_kind::mutex;
  }
}

// "file:line", for failure signatures and labels.
inline std::string site_text(const weft::source_location& s) {
  return std::string(s.file_name() != nullptr ? s.file_name() : "?") + ":" + std::to_string(s.line());
}

class resource_state {
 public:
  struct gstate {
    bool alive = false;
    bool parked = false;
    weft::detail::wait_reason reason = weft::detail::wait_reason::none;
    const void* obj = nullptr;
    weft::source_location site{};
    std::uint64_t last_step = 0;       // the last step it took
    std::uint64_t runnable_since = 0;  // 0: running, parked or dead; else the step it became runnable
    weft::detail::op last_op = weft::detail::op::spawn;
    bool has_op = false;
  };
  struct hold {
    std::uint32_t g;
    weft::detail::resource_kind kind;
    weft::source_location site;
  };

  void begin_run() {
    gs_.clear();
    holders_.clear();
    handed_off_.clear();
  }

  gstate& g(std::uint32_t id) {
    if (id >= gs_.size()) gs_.resize(id + 1);
    return gs_[id];
  }
  const std::vector<gstate>& all() const noexcept { return gs_; }
  const std::vector<hold>* holders(const void* res) const {
    auto it = holders_.find(res);
    return it == holders_.end() || it->second.empty() ? nullptr : &it->second;
  }

  // Unlocked at least once in this run by a goroutine that did not hold it
  // (Go allows it). Such a lock is used as a handoff between goroutines, so its
  // locker is not the only one that can let a waiter in: the eager (partial)
  // deadlock check leaves it out, and only a global deadlock reports it.
  bool handed_off(const void* res) const { return handed_off_.count(res) != 0; }

  static bool is_step(const event& e) noexcept {
    switch (e.type) {
      case ev::point:
      case ev::yield:
      case ev::park:
      case ev::exit:
        return e.g != 0;
      case ev::spawn:
        return e.g != 0;
      default:
        return false;
    }
  }
  // Parked on a mutex-like resource (its wait object is the resource).
  static bool resource_wait(weft::detail::wait_reason r) noexcept {
    using weft::detail::wait_reason;
    return r == wait_reason::mutex || r == wait_reason::rw_rlock || r == wait_reason::rw_lock ||
           r == wait_reason::semaphore;
  }

  void on_event(const event& e) {
    if (is_step(e)) {
      gstate& s = g(e.g);
      s.alive = true;
      s.last_step = e.step;
      s.runnable_since = 0;
      s.parked = false;
    }
    switch (e.type) {
      case ev::point:
        g(e.g).last_op = static_cast<weft::detail::op>(e.code);
        g(e.g).has_op = true;
        break;
      case ev::spawn: {
        gstate& c = g(e.other);
        c = gstate{};
        c.alive = true;
        c.runnable_since = e.step + 1;
        break;
      }
      case ev::park: {
        gstate& s = g(e.g);
        s.parked = true;
        s.reason = static_cast<weft::detail::wait_reason>(e.code);
        s.obj = e.obj;
        s.site = e.site;
        break;
      }
      case ev::ready: {
        gstate& s = g(e.other);
        s.parked = false;
        s.runnable_since = e.step + 1;
        break;
      }
      case ev::exit:
        g(e.g).alive = false;
        break;
      case ev::acquire:
        holders_[e.obj].push_back({e.g, static_cast<weft::detail::resource_kind>(e.code), e.site});
        break;
      case ev::release: {
        auto it = holders_.find(e.obj);
        if (it == holders_.end()) break;
        auto& v = it->second;
        const auto k = static_cast<weft::detail::resource_kind>(e.code);
        // Go lets another goroutine unlock: prefer the caller's own hold.
        auto own = std::find_if(v.rbegin(), v.rend(), [&](const hold& h) { return h.kind == k && h.g == e.g; });
        if (own == v.rend()) {
          handed_off_.insert(e.obj);
          own = std::find_if(v.rbegin(), v.rend(), [&](const hold& h) { return h.kind == k; });
        }
        if (own != v.rend()) v.erase(std::next(own).base());
        break;
      }
      default:
        break;
    }
  }

 private:
  std::vector<gstate> gs_;
  std::unordered_map<const void*, std::vector<hold>> holders_;
  std::unordered_set<const void*> handed_off_;
};

}  // namespace weft::check::detail
