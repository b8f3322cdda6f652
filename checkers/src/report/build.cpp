#include "report/build.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace weft::check::detail {

using weft::detail::op;
using weft::detail::resource_kind;
using weft::detail::wait_reason;

const char* object_kind(op o) noexcept {
  switch (o) {
    case op::chan_send:
    case op::chan_recv:
    case op::chan_close:
    case op::chan_len:
      return "chan";
    case op::timer:
      return "timer";
    case op::mutex_lock:
    case op::mutex_unlock:
      return "mutex";
    case op::rw_rlock:
    case op::rw_runlock:
    case op::rw_lock:
    case op::rw_unlock:
      return "rwmutex";
    case op::wg_add:
    case op::wg_wait:
      return "waitgroup";
    case op::cond_wait:
    case op::cond_signal:
    case op::cond_broadcast:
      return "cond";
    case op::once:
      return "once";
    case op::sema_acquire:
    case op::sema_release:
      return "semaphore";
    case op::ctx_cancel:
    case op::ctx_done:
      return "context";
    case op::atomic_load:
    case op::atomic_store:
    case op::atomic_rmw:
      return "atomic";
    case op::shared_read:
    case op::shared_write:
      return "var";
    case op::pool:
      return "pool";
    default:
      return "obj";
  }
}

const char* object_kind(wait_reason r) noexcept {
  switch (r) {
    case wait_reason::chan_send:
    case wait_reason::chan_recv:
      return "chan";
    case wait_reason::mutex:
      return "mutex";
    case wait_reason::rw_rlock:
    case wait_reason::rw_lock:
      return "rwmutex";
    case wait_reason::wait_group:
      return "waitgroup";
    case wait_reason::cond:
      return "cond";
    case wait_reason::once:
      return "once";
    case wait_reason::semaphore:
      return "semaphore";
    default:
      return "obj";
  }
}

const char* object_kind(resource_kind k) noexcept {
  switch (k) {
    case resource_kind::mutex:
      return "mutex";
    case resource_kind::rw_read:
    case resource_kind::rw_write:
      return "rwmutex";
    case resource_kind::semaphore:
      return "semaphore";
  }
  return "obj";
}

const char* hold_mode(resource_kind k) noexcept {
  switch (k) {
    case resource_kind::mutex:
      return "locked";
    case resource_kind::rw_read:
      return "read-locked";
    case resource_kind::rw_write:
      return "write-locked";
    case resource_kind::semaphore:
      return "acquired";
  }
  return "held";
}

const char* want_mode(resource_kind k) noexcept {
  switch (k) {
    case resource_kind::mutex:
      return "lock";
    case resource_kind::rw_read:
      return "read-lock";
    case resource_kind::rw_write:
      return "write-lock";
    case resource_kind::semaphore:
      return "acquire";
  }
  return "take";
}

// Lookups only; no iteration over the hash map.
std::string namer::operator()(const void* obj, const char* kind) {
  if (obj == nullptr) return {};
  auto it = names_.find(obj);
  if (it != names_.end()) return it->second;
  std::string name = std::string(kind) + "#" + std::to_string(++counts_[kind]);
  names_.emplace(obj, name);
  return name;
}

namespace {
std::string with(const std::string& a, const std::string& b) { return b.empty() ? a : a + " " + b; }
}  // namespace

bool render_event(const event& e, namer& name, std::string& action) {
  switch (e.type) {
    case ev::point: {
      const auto o = static_cast<op>(e.code);
      // A plain access is shown when it happens (its read/write event): a
      // goroutine preempted at the point performs it only when it resumes.
      if (o == op::shared_read || o == op::shared_write) {
        (void)name(e.obj, object_kind(o));
        return false;
      }
      action = with(weft::detail::to_string(o), name(e.obj, object_kind(o)));
      return true;
    }
    case ev::yield:
      action = "yield";
      return true;
    case ev::spawn:
      action = "go: starts goroutine " + std::to_string(e.other);
      return true;
    case ev::park: {
      const auto why = static_cast<wait_reason>(e.code);
      std::string obj = name(e.obj, object_kind(why));
      action = std::string("blocks: ") + weft::detail::to_string(why) + (obj.empty() ? "" : " on " + obj);
      return true;
    }
    case ev::exit:
      action = "exits";
      return true;
    case ev::ready:
      action = "wakes goroutine " + std::to_string(e.other);
      return true;
    case ev::acquire: {
      const auto k = static_cast<resource_kind>(e.code);
      action = std::string(hold_mode(k)) + " " + name(e.obj, object_kind(k));
      return true;
    }
    case ev::release: {
      const auto k = static_cast<resource_kind>(e.code);
      action = "released " + name(e.obj, object_kind(k));
      return true;
    }
    case ev::clock:
      action = "clock advances to next timer";
      return true;
    case ev::fire:
      action = "timer fires";
      return true;
    case ev::random:
      action = "select picks ready case " + std::to_string(e.other + 1) + " of " + std::to_string(e.aux);
      return true;
    case ev::jitter:
      action = "jitter: clock +" + std::to_string(e.other) + "/7 of the jitter bound";
      return true;
    case ev::choose:
      action = "choose(" + std::to_string(e.aux) + ") = " + std::to_string(e.other);
      return true;
    case ev::progress:
      action = "progress";
      return true;
    case ev::fail:
      action = std::string("FAILS: ") + to_string(static_cast<check::kind>(e.code));
      return true;
    case ev::read:
    case ev::write:
      action = std::string(e.type == ev::read ? "reads " : "writes ") + name(e.obj, "var");
      return true;
    case ev::hb_release:
    case ev::hb_acquire:
    case ev::forget:
      return false;
  }
  return false;
}

void name_objects(const std::vector<event>& trace, std::size_t n, namer& name) {
  std::string scratch;
  for (std::size_t i = 0; i < n && i < trace.size(); ++i) (void)render_event(trace[i], name, scratch);
}

goroutine_info describe_goroutine(const goroutine_snapshot& s, const failure* f, namer& name) {
  goroutine_info gi;
  gi.id = s.id;
  gi.parent = s.parent;
  gi.is_main = s.is_main;
  gi.created_at = s.created_at;
  if (s.running) {
    gi.state = "running";
  } else if (s.runnable) {
    gi.state = "runnable";
  } else {
    gi.state = s.reason == wait_reason::sleep ? "sleeping" : "blocked";
    gi.wait_reason = weft::detail::to_string(s.reason);
    gi.waiting_on = name(s.wait_obj, object_kind(s.reason));
    gi.blocked_at = s.blocked_at;
  }
  if (s.has_last_op) gi.last_op = with(weft::detail::to_string(s.last_op), name(s.last_obj, object_kind(s.last_op)));
  // The goroutine that failed an assertion: where it failed.
  if (f != nullptr && f->kind == check::kind::assertion && f->site.line() != 0 && f->involved.size() == 1)
    gi.blocked_at = f->site;
  for (const held& h : s.holds) gi.holds.push_back({name(h.res, object_kind(h.kind)), hold_mode(h.kind), h.site});
  return gi;
}

report build_report(const failure& f, const std::vector<event>& trace, const run_meta& meta) {
  report r;
  r.kind = f.kind;
  r.message = f.message;
  r.schedule = meta.schedule;
  r.strategy = meta.finder;
  r.seed = meta.seed;
  r.iteration = meta.iteration;
  r.steps = meta.steps;
  r.preemptions = meta.preemptions;
  r.time_ns = meta.time_ns;

  namer name;
  r.trace.reserve(trace.size());
  for (const event& e : trace) {
    step s;
    s.index = e.step;
    s.goroutine = e.g;
    s.time_ns = e.time;
    if (!render_event(e, name, s.action)) continue;
    r.trace.push_back(std::move(s));
  }

  for (const goroutine_snapshot& s : f.goroutines) {
    if (!std::binary_search(f.involved.begin(), f.involved.end(), s.id)) continue;
    r.goroutines.push_back(describe_goroutine(s, &f, name));
  }
  // Goroutines the failure involves that had already finished (a race's
  // earlier access is often made by one) are not in the snapshot of live
  // goroutines; without this the report would name them in its message but
  // not list them. Like Go's race reports ("Goroutine 7 (finished) created
  // at:"), list them as finished, with their creation site from the trace's
  // spawn event (main, goroutine 1, has none: it was started by explore()).
  for (std::uint32_t id : f.involved) {
    const bool live = std::any_of(r.goroutines.begin(), r.goroutines.end(),
                                  [&](const goroutine_info& gi) { return gi.id == id; });
    if (live || id == 0) continue;
    goroutine_info gi;
    gi.id = id;
    gi.is_main = id == 1;
    gi.state = "finished";
    for (const event& e : trace)
      if (e.type == ev::spawn && e.other == id) {
        gi.parent = e.g;
        gi.created_at = e.site;
        break;
      }
    r.goroutines.push_back(std::move(gi));
  }
  std::stable_sort(r.goroutines.begin(), r.goroutines.end(),
                   [](const goroutine_info& a, const goroutine_info& b) { return a.id < b.id; });
  if (r.kind != check::kind::ok) describe_finding(r, f, trace, name);
  return r;
}

}  // namespace weft::check::detail
