// The one text renderer: every report, of every kind, prints the same way.
#include <algorithm>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>

#include "weft/check/report.hpp"

namespace weft::check {

const char* to_string(kind k) noexcept {
  switch (k) {
    case kind::ok:
      return "ok";
    case kind::assertion:
      return "assertion";
    case kind::panic:
      return "panic";
    case kind::deadlock:
      return "deadlock";
    case kind::leak:
      return "leak";
    case kind::race:
      return "race";
    case kind::lock_order:
      return "lock_order";
    case kind::livelock:
      return "livelock";
    case kind::starvation:
      return "starvation";
    case kind::step_bound:
      return "step_bound";
    case kind::nondeterminism:
      return "nondeterminism";
  }
  return "?";
}

namespace {

std::string where(const weft::source_location& s, bool with_function = true) {
  if (s.file_name() == nullptr || s.line() == 0) return "an unknown site";
  std::string out = std::string(s.file_name()) + ":" + std::to_string(s.line());
  if (with_function && s.function_name() != nullptr && *s.function_name() != '\0')
    out += std::string(" in ") + s.function_name();
  return out;
}

std::string goroutine_label(std::uint64_t id) {
  return id == 0 ? std::string("scheduler") : "g" + std::to_string(id);
}

std::string fit(const std::string& s, std::size_t w) {
  if (s.size() <= w) return s + std::string(w - s.size(), ' ');
  return s.substr(0, w - 3) + "...";
}

std::string duration_text(std::int64_t ns) {
  std::ostringstream o;
  if (ns == 0)
    o << "0s";
  else if (ns % 1000000000 == 0)
    o << ns / 1000000000 << "s";
  else if (ns % 1000000 == 0)
    o << ns / 1000000 << "ms";
  else if (ns % 1000 == 0)
    o << ns / 1000 << "us";
  else
    o << ns << "ns";
  return o.str();
}

void write_table(std::ostream& out, const std::vector<step>& trace, std::size_t last) {
  if (trace.empty() || last == 0) return;
  const std::size_t from = trace.size() > last ? trace.size() - last : 0;
  std::set<std::uint64_t> cols;
  for (std::size_t i = from; i < trace.size(); ++i) cols.insert(trace[i].goroutine);
  std::vector<std::uint64_t> order(cols.begin(), cols.end());
  if (!order.empty() && order.front() == 0) {  // the scheduler's column goes last
    order.erase(order.begin());
    order.push_back(0);
  }
  constexpr std::size_t max_w = 30;
  std::vector<std::size_t> width(order.size());
  for (std::size_t c = 0; c < order.size(); ++c) width[c] = goroutine_label(order[c]).size();
  for (std::size_t i = from; i < trace.size(); ++i) {
    std::size_t c = static_cast<std::size_t>(std::find(order.begin(), order.end(), trace[i].goroutine) - order.begin());
    width[c] = std::min(max_w, std::max(width[c], trace[i].action.size()));
  }
  std::size_t step_w = std::max<std::size_t>(4, std::to_string(trace.back().index).size());

  out << "\nlast " << trace.size() - from << " of " << trace.size() << " trace rows (one column per goroutine):\n";
  out << "  " << std::setw(static_cast<int>(step_w)) << "step";
  for (std::size_t c = 0; c < order.size(); ++c) out << " | " << fit(goroutine_label(order[c]), width[c]);
  out << "\n  " << std::string(step_w, '-');
  for (std::size_t c = 0; c < order.size(); ++c) out << "-+-" << std::string(width[c], '-');
  out << '\n';
  for (std::size_t i = from; i < trace.size(); ++i) {
    const step& s = trace[i];
    out << "  " << std::setw(static_cast<int>(step_w)) << s.index;
    for (std::size_t c = 0; c < order.size(); ++c)
      out << " | " << fit(order[c] == s.goroutine ? s.action : std::string(), width[c]);
    out << '\n';
  }
}

}  // namespace

void report::write_text(std::ostream& out, std::size_t last_steps) const {
  if (ok()) {
    out << "weft::check: ok: " << iterations << " schedule(s) explored";
    if (!strategy.empty()) out << " by " << strategy;
    out << " (seed " << seed << ")\n";
    if (!note.empty()) out << "  " << note << '\n';
    return;
  }
  out << "weft::check: " << to_string(kind) << ": " << message << '\n';
  out << "  found";
  if (!strategy.empty()) out << " by " << strategy;
  out << " at iteration " << iteration << " (seed " << seed << "); the run took " << steps << " steps ("
      << preemptions << " preemption" << (preemptions == 1 ? "" : "s") << ") and " << duration_text(time_ns)
      << " of virtual time\n";

  for (const detail_section& d : details) {
    out << '\n' << d.title << ":\n";
    for (const std::string& line : d.lines) out << "  " << line << '\n';
  }

  if (!goroutines.empty()) out << "\ngoroutines involved:\n";
  for (const goroutine_info& gi : goroutines) {
    out << "  goroutine " << gi.id;
    if (gi.is_main) out << " (main)";
    out << " [" << gi.state;
    if (!gi.wait_reason.empty()) out << ": " << gi.wait_reason;
    if (!gi.waiting_on.empty()) out << " on " << gi.waiting_on;
    out << "]\n";
    if (gi.blocked_at.line() != 0)
      out << "      " << (gi.state == "blocked" || gi.state == "sleeping" ? "blocked at " : "at ")
          << where(gi.blocked_at) << '\n';
    if (!gi.last_op.empty() && gi.state != "blocked" && gi.state != "sleeping")
      out << "      last interleaving point: " << gi.last_op << '\n';
    if (gi.is_main)
      out << "      main goroutine, started at " << where(gi.created_at) << '\n';
    else if (gi.parent != 0)
      out << "      created by goroutine " << gi.parent << " at " << where(gi.created_at) << '\n';
    else
      out << "      created by a timer (after_func) at " << where(gi.created_at) << '\n';
    for (const held_resource& h : gi.holds)
      out << "      holds " << h.name << " (" << h.mode << " at " << where(h.acquired_at, false) << ")\n";
  }

  write_table(out, trace, last_steps);

  out << "\nto replay this run:\n";
  if (!replay_command.empty())
    out << replay_command << '\n';
  else
    out << "WEFT_REPLAY='" << schedule << "'\n";
}

std::string report::text(std::size_t last_steps) const {
  std::ostringstream o;
  write_text(o, last_steps);
  return o.str();
}

std::ostream& operator<<(std::ostream& out, const report& r) {
  r.write_text(out);
  return out;
}

}  // namespace weft::check
