// A detector's raw evidence (failure::found) in the report's terms: named
// objects, a message that says what happened, and the details sections the
// text report prints under it. Written for someone who has never seen the
// program: what happened, why it is a bug, what usually fixes it.
#include <algorithm>
#include <set>
#include <string>

#include "report/build.hpp"

namespace weft::check::detail {

using weft::detail::resource_kind;

namespace {

std::string at(const weft::source_location& s) {
  if (s.file_name() == nullptr || s.line() == 0) return "an unknown site";
  return std::string(s.file_name()) + ":" + std::to_string(s.line());
}

std::string gname(std::uint64_t g) { return "goroutine " + std::to_string(g); }

bool inside_shared(const weft::source_location& s) {
  const std::string_view f = s.file_name() != nullptr ? s.file_name() : "";
  constexpr std::string_view tail = "weft/check/shared.hpp";
  return f.size() >= tail.size() && f.substr(f.size() - tail.size()) == tail;
}

// "a", "a and b", "a, b and c"
std::string join_and(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) out += i + 1 == v.size() ? " and " : ", ";
    out += v[i];
  }
  return out;
}

std::string goroutines_text(std::vector<std::uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<std::string> parts;
  for (std::uint64_t g : ids) parts.push_back(std::to_string(g));
  return (ids.size() == 1 ? "goroutine " : "goroutines ") + join_and(parts);
}

// "mutex#2" before "mutex#10".
bool name_less(const std::string& a, const std::string& b) {
  const auto ha = a.find('#'), hb = b.find('#');
  if (ha == std::string::npos || hb == std::string::npos || a.compare(0, ha, b, 0, hb) != 0) return a < b;
  const std::string na = a.substr(ha + 1), nb = b.substr(hb + 1);
  return na.size() != nb.size() ? na.size() < nb.size() : na < nb;
}


std::string lock_name(const void* obj, resource_kind k, const std::string& label, namer& name) {
  if (obj == nullptr) return label;
  return name(obj, object_kind(k));
}

// --- race ---

void describe_race(report& r, const failure& f, namer& name) {
  for (const raw_access& a : f.found.accesses) {
    access x;
    x.goroutine = a.g;
    x.write = a.write;
    x.object = name(a.obj, "var");
    x.size = a.size;
    x.site = a.site;
    x.step = a.step;
    r.accesses.push_back(std::move(x));
  }
  if (r.accesses.size() != 2) return;
  const access& e = r.accesses[0];
  const access& l = r.accesses[1];
  auto what = [](const access& a, bool present) {
    return std::string(a.write ? (present ? "writes" : "wrote") : (present ? "reads" : "read"));
  };
  const std::string obj = e.object == l.object ? e.object : e.object + " / " + l.object;
  r.message = "data race on " + obj + ": " + gname(e.goroutine) + " " + what(e, false) + " it at " + at(e.site) +
              ", then " + gname(l.goroutine) + " " + what(l, false) + " it at " + at(l.site) +
              ", and nothing orders the two";
  detail_section acc{"the two accesses (neither happens before the other)", {}};
  for (const access& a : r.accesses)
    acc.lines.push_back("step " + std::to_string(a.step) + ": " + gname(a.goroutine) + " " + what(a, false) + " " +
                        a.object + " (" + std::to_string(a.size) + " byte" + (a.size == 1 ? "" : "s") + ") at " +
                        at(a.site) + (a.site.function_name() != nullptr && *a.site.function_name() != '\0'
                                          ? std::string(" in ") + a.site.function_name()
                                          : std::string()));
  if (inside_shared(e.site) || inside_shared(l.site))
    acc.lines.push_back("(a site inside weft/check/shared.hpp is one of shared<T>'s operators =, ++, -- or T(): "
                        "write load()/store() there to see the caller's line)");
  r.details.push_back(std::move(acc));
  r.details.push_back(
      {"why it is a bug",
       {"No synchronisation connects the two goroutines between these accesses (no channel send/receive,",
        "mutex, WaitGroup, Once, weft::atomic, ... in Go's memory model), so another run may see them in",
        "the other order, or a torn value: at least one of them writes.",
        "Fix: guard " + obj + " with a weft::mutex held for both accesses, hand it from one goroutine to the",
        "other through a channel, or make it a weft::atomic."}});
}

// --- deadlock ---

void describe_cycle_conditions(report& r, const failure& f, namer& name, bool global) {
  const auto& cyc = f.found.cycle;
  // A link whose goroutine holds nothing: a writer queued on an rw_mutex that
  // a reader of the cycle read-locks again (raw_link::queued).
  bool queued = false;
  for (const raw_link& l : cyc) {
    cycle_link c;
    c.goroutine = l.g;
    c.holds = lock_name(l.holds, l.hold_kind, l.hold_label, name);
    c.hold_mode = l.queued ? "queued to write-lock" : hold_mode(l.hold_kind);
    queued = queued || l.queued;
    c.held_at = l.held_at;
    c.wants = lock_name(l.wants, l.want_kind, l.want_label, name);
    c.want_mode = want_mode(l.want_kind);
    c.wanted_at = l.wanted_at;
    r.cycle.push_back(std::move(c));
  }
  std::vector<std::uint64_t> ids;
  std::vector<std::string> resources;
  for (const cycle_link& c : r.cycle) {
    ids.push_back(c.goroutine);
    if (std::find(resources.begin(), resources.end(), c.wants) == resources.end()) resources.push_back(c.wants);
  }
  const bool self = r.cycle.size() == 1;
  std::sort(resources.begin(), resources.end(), name_less);
  if (!global) {
    if (queued) {
      r.message = goroutines_text(ids) + " wait for each other on " + join_and(resources) +
                  ": a read lock waits behind a queued writer, which waits for a read lock already held " +
                  "(writer preference): " + (r.cycle.size() == 2 ? "neither" : "none") + " can ever go on";
    } else if (self) {
      const cycle_link& c = r.cycle[0];
      r.message = gname(c.goroutine) + " waits to " + c.want_mode + " " + c.wants + ", which it already holds (" +
                  c.hold_mode + " at " + at(c.held_at) + "): it can never go on";
    } else if (r.cycle.size() == 2) {
      r.message = goroutines_text(ids) + " each wait for a lock the other holds (" + join_and(resources) +
                  "): neither can ever go on";
    } else {
      r.message = goroutines_text(ids) + " each wait for a lock the next one holds, in a cycle (" +
                  join_and(resources) + "): none can ever go on";
    }
  }

  detail_section s{global ? "at its heart, a cycle of locks: the four Coffman conditions all hold"
                          : "the four Coffman conditions, which all hold",
                   {}};
  // 1. mutual exclusion
  {
    std::vector<std::string> parts;
    for (const cycle_link& c : r.cycle) {
      if (c.hold_mode == "queued to write-lock") {
        parts.push_back(gname(c.goroutine) + " is next in line for " + c.holds +
                        " (a queued writer: by writer preference, readers arriving after it wait)");
        continue;
      }
      std::string mode = c.hold_mode == "read-locked" ? " (read-locked: it keeps writers out)"
                         : c.hold_mode == "write-locked" ? " (write-locked: it keeps everyone out)"
                                                         : "";
      parts.push_back(c.holds + " is " + c.hold_mode + " by " + gname(c.goroutine) + mode);
    }
    s.lines.push_back("1. mutual exclusion: a lock has one holder at a time; " + join_and(parts) + ".");
  }
  // 2. hold and wait
  s.lines.push_back("2. hold and wait: each goroutine holds a lock while it waits for another:");
  for (const cycle_link& c : r.cycle) {
    if (c.hold_mode == "queued to write-lock") {
      s.lines.push_back("     " + gname(c.goroutine) + " holds no lock but is queued to " + c.want_mode + " " + c.wants +
                        " (at " + at(c.wanted_at) + "), which holds back new readers, while it waits for the readers "
                        "already in");
      continue;
    }
    s.lines.push_back("     " + gname(c.goroutine) + " holds " + c.holds + " (" + c.hold_mode + " at " + at(c.held_at) +
                      ") and waits to " + c.want_mode + " " + c.wants + " (at " + at(c.wanted_at) + ")");
  }
  // 3. no preemption
  {
    std::vector<std::string> parts;
    for (const cycle_link& c : r.cycle)
      parts.push_back(c.hold_mode == "queued to write-lock"
                          ? gname(c.goroutine) + " keeps its place in " + c.holds + "'s queue"
                          : "only " + gname(c.goroutine) + " can release " + c.holds);
    s.lines.push_back("3. no preemption: weft, like Go, never takes a lock away from its holder, and every holder here "
                      "is blocked: " + join_and(parts) + ".");
  }
  // 4. circular wait
  {
    std::string chain;
    for (std::size_t i = 0; i < r.cycle.size(); ++i) chain += gname(r.cycle[i].goroutine) + " -> " + r.cycle[i].wants + " -> ";
    chain += gname(r.cycle.front().goroutine);
    s.lines.push_back("4. circular wait: " + chain + " (each waits for the lock the next one holds).");
  }
  r.details.push_back(std::move(s));
  if (!f.found.behind.empty()) {
    std::vector<std::uint64_t> b(f.found.behind.begin(), f.found.behind.end());
    r.details.push_back({"also stuck", {goroutines_text(b) + " wait(s) on the cycle's locks and can never go on either."}});
  }
  detail_section fix{"how to fix it", {}};
  if (queued)
    fix.lines.push_back("Do not read-lock an rw_mutex again while holding a read lock on it (Go's RWMutex forbids "
                        "recursive read locking): a writer that queues up in between blocks the second read lock "
                        "for good. Pass the held lock down instead.");
  else if (self)
    fix.lines.push_back("weft::mutex is not reentrant: do not lock a mutex again while holding it (split the function "
                        "into a locked and an unlocked part, or pass the held lock down).");
  else
    fix.lines.push_back("Break one condition, usually the circular wait: make every goroutine take " +
                        join_and(resources) + " in the same order (or hold only one of them at a time).");
  r.details.push_back(std::move(fix));
}

void describe_deadlock(report& r, const failure& f, namer& name) {
  if (f.found.cycle.empty()) {
    r.details.push_back({"what this means",
                         {"Every goroutine is blocked and no timer is pending, so nothing can ever wake any of",
                          "them (Go's \"all goroutines are asleep\"). Each one's blocking site is listed below."}});
    return;
  }
  describe_cycle_conditions(r, f, name, !f.found.partial);
  if (f.found.partial) {
    std::size_t others = 0;
    for (const goroutine_info& gi : r.goroutines)
      if (gi.state == "running" || gi.state == "runnable") ++others;
    (void)others;
    r.details.insert(r.details.begin(),
                     {"when", {"Reported the moment the cycle formed: the goroutines on it can never go on, even while "
                               "others keep running (a partial deadlock, which Go's runtime does not detect)."}});
  }
}

// --- lock order ---

void describe_lock_order(report& r, const failure& f, namer& name) {
  for (const raw_link& l : f.found.cycle) {
    cycle_link c;
    c.goroutine = l.g;
    c.holds = lock_name(l.holds, l.hold_kind, l.hold_label, name);
    c.hold_mode = hold_mode(l.hold_kind);
    c.held_at = l.held_at;
    c.wants = lock_name(l.wants, l.want_kind, l.want_label, name);
    c.want_mode = want_mode(l.want_kind);
    c.wanted_at = l.wanted_at;
    c.iteration = l.iteration;
    r.cycle.push_back(std::move(c));
  }
  std::vector<std::string> locks;
  for (const cycle_link& c : r.cycle)
    if (std::find(locks.begin(), locks.end(), c.holds) == locks.end()) locks.push_back(c.holds);
  r.message = join_and(locks) + " are taken in " + (r.cycle.size() == 2 ? "opposite orders" : "orders that form a cycle") +
              ": a deadlock waiting to happen (no explored schedule deadlocked)";
  detail_section orders{r.cycle.size() == 2 ? "the two orders" : "the orders, which form a cycle", {}};
  for (std::size_t i = 0; i < r.cycle.size(); ++i) {
    const cycle_link& c = r.cycle[i];
    const raw_link& l = f.found.cycle[i];
    orders.lines.push_back(gname(c.goroutine) + " " + hold_mode(l.hold_kind) + " " + c.holds + " at " + at(c.held_at) +
                           ", then " + hold_mode(l.want_kind) + " " + c.wants + " at " + at(c.wanted_at) +
                           " (schedule " + std::to_string(c.iteration) + ")");
  }
  r.details.push_back(std::move(orders));
  std::vector<std::string> holds;
  for (const cycle_link& c : r.cycle) holds.push_back(gname(c.goroutine) + " holds " + c.holds);
  r.details.push_back(
      {"why it matters",
       {"If these run at the same time and " + join_and(holds) + ", each waits for a lock another holds,",
        "forever: a deadlock. No explored schedule hit that timing; a real run, under other load, can.",
        "This is Linux lockdep's check: the orders may come from different schedules."}});
  r.details.push_back({"how to fix it",
                       {"Take " + join_and(locks) + " in one global order everywhere, or hold only one at a time."}});
  for (const std::string& n : f.found.notes) r.details.back().lines.push_back(n);
}

// --- livelock ---

void describe_livelock(report& r, const failure& f, const std::vector<event>& trace, namer& name) {
  r.steps_without_progress = f.found.steps_without_progress;
  std::vector<std::uint64_t> ids;
  detail_section loops{"what each goroutine kept doing", {}};
  for (const raw_loop& l : f.found.loops) {
    loop_info li;
    li.goroutine = l.g;
    li.repeats = l.repeats;
    for (std::size_t i : l.period) {
      std::string action;
      if (i < trace.size() && render_event(trace[i], name, action)) li.actions.push_back(action);
    }
    ids.push_back(l.g);
    if (l.repeats != 0)
      loops.lines.push_back(gname(l.g) + " repeats these " + std::to_string(li.actions.size()) + " steps (" +
                            std::to_string(l.repeats) + " times over):");
    else
      loops.lines.push_back(gname(l.g) + ", its last " + std::to_string(li.actions.size()) +
                            " steps (they do not repeat exactly):");
    std::string row;
    for (std::size_t k = 0; k < li.actions.size(); ++k) {
      const std::string item = li.actions[k] + (k + 1 < li.actions.size() ? ", " : "");
      if (row.size() + item.size() > 96) {
        loops.lines.push_back("     " + row);
        row.clear();
      }
      row += item;
    }
    if (!row.empty()) loops.lines.push_back("     " + row);
    r.loops.push_back(std::move(li));
  }
  r.message = "no progress for " + std::to_string(f.found.steps_without_progress) + " steps while " +
              goroutines_text(ids) + " kept running";
  r.details.push_back(std::move(loops));
  r.details.push_back(
      {"why it is a livelock",
       {"Progress means a goroutine finishing, a value crossing a channel (a timer's tick does not count) or",
        "weft::check::progress(); the last was " +
            (f.found.progress_step == 0 ? std::string("never, in this run") : "at step " + std::to_string(f.found.progress_step)) +
            ". The schedule was fair over the window: every goroutine",
        "that could run did. So the goroutines are busy reacting to each other without getting anywhere.",
        "Fix: break the symmetry (random back-off, or give up after a few tries), or let one side win.",
        "If the loop does useful work without communicating, call weft::check::progress() in it or raise",
        "options::livelock.window (WEFT_LIVELOCK_WINDOW)."}});
}

// --- starvation ---

void describe_starvation(report& r, const failure& f, namer& name) {
  for (const raw_starved& s : f.found.starved) {
    starved_waiter w;
    w.goroutine = s.g;
    w.resource = name(s.res, object_kind(s.kind));
    w.requested_at = s.requested_at;
    w.passed_over = s.passed_over;
    w.acquired_before = s.acquired_before;
    for (const auto& a : s.others) w.others.push_back({a.g, a.times, a.site});
    r.starved.push_back(std::move(w));
  }
  if (r.starved.empty()) return;
  const starved_waiter& w = r.starved.front();
  std::vector<std::string> by;
  for (const auto& a : w.others) by.push_back(gname(a.goroutine) + " took it " + std::to_string(a.times) + " times");
  r.message = gname(w.goroutine) + " waited for " + w.resource + " and was passed over " + std::to_string(w.passed_over) +
              " times while " + join_and(by);
  detail_section who{"the waiter and who got " + w.resource + " instead", {}};
  who.lines.push_back(gname(w.goroutine) + " asked for " + w.resource + " at " + at(w.requested_at) +
                      " and is still waiting (it had got it " + std::to_string(w.acquired_before) +
                      " times earlier in the run)");
  for (const auto& a : w.others)
    who.lines.push_back("   " + gname(a.goroutine) + ": " + std::to_string(a.times) + " times meanwhile (last at " +
                        at(a.site) + ")");
  r.details.push_back(std::move(who));
  r.details.push_back(
      {"why it is starvation",
       {"Each time " + gname(w.goroutine) + " was woken and tried again, another goroutine, already running, took",
        w.resource + " first (Go's mutex in normal mode favours the running goroutine). More than",
        "options::starvation.threshold pass-overs in a row is reported (WEFT_STARVATION_THRESHOLD).",
        "Fix: keep critical sections short and do the work outside the lock, and do not re-take a lock in a",
        "tight loop: let the others in between."}});
}

// --- misuse ---

void describe_panic(report& r) {
  struct hint {
    const char* message;
    const char* text;
  };
  static constexpr hint hints[] = {
      {"send on closed channel",
       "A send on a closed channel panics. Close a channel only once every send on it has happened: "
       "in the one goroutine that sends, after its last send, or after the senders' WaitGroup is done."},
      {"close of closed channel", "A channel must be closed exactly once: close it in one place (the goroutine "
                                  "that owns it), or guard the close with a weft::once."},
      {"close of nil channel", "The channel was never made: a default-constructed weft::chan is nil. Make it with "
                               "weft::make_chan<T>()."},
      {"sync: negative WaitGroup counter", "done() ran more often than add() counted: call add(n) once for n "
                                           "goroutines before starting them, and done() exactly once in each."},
      {"sync: unlock of unlocked mutex", "unlock() without a matching lock() (or a second unlock): pair every "
                                         "lock with exactly one unlock; std::lock_guard does it for you."},
      {"sync: RUnlock of unlocked RWMutex", "unlock_shared() without a matching lock_shared(): pair them one to one."},
      {"sync: Unlock of unlocked RWMutex", "unlock() of an rw_mutex that is not write-locked: pair every lock() "
                                           "with exactly one unlock()."},
      {"sync: WaitGroup is reused before previous Wait has returned",
       "add() started a new round while a wait() of the previous round had not returned yet."},
  };
  for (const hint& h : hints) {
    if (r.message.find(h.message) == std::string::npos) continue;
    r.details.push_back({"what this panic means", {h.text}});
    return;
  }
}

}  // namespace

void describe_finding(report& r, const failure& f, const std::vector<event>& trace, namer& name) {
  switch (f.kind) {
    case check::kind::race:
      describe_race(r, f, name);
      break;
    case check::kind::deadlock:
      describe_deadlock(r, f, name);
      break;
    case check::kind::lock_order:
      describe_lock_order(r, f, name);
      break;
    case check::kind::livelock:
      describe_livelock(r, f, trace, name);
      break;
    case check::kind::starvation:
      describe_starvation(r, f, name);
      break;
    case check::kind::panic:
      describe_panic(r);
      break;
    case check::kind::leak:
      r.details.push_back(
          {"what this means",
           {"These goroutines can never finish: what they wait for will not happen now that main has returned.",
            "Every goroutine needs a way to stop (a done channel or context, a closed input channel) and someone",
            "who waits for it. Known, harmless ones can be ignored with options::leaks (ignore / ignore_if)."}});
      for (const std::string& n : f.found.notes) r.details.back().lines.push_back(n);
      break;
    default:
      break;
  }
}

}  // namespace weft::check::detail
