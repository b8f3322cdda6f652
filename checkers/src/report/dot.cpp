// The wait-for graph at the failure, in Graphviz DOT: goroutines (boxes) point
// at what they wait on (ellipses: chan#1, mutex#2, ...); objects point at the
// goroutines holding them. A deadlock cycle reads as a cycle, its edges in red
// (report::cycle). For a lock-order inversion, where nobody waits, the graph
// is the lock-order cycle itself: an edge from each lock to the lock taken
// while holding it, labelled with who did it, where, and in which schedule.
#include <ostream>
#include <set>
#include <string>

#include "report/json.hpp"
#include "weft/check/report.hpp"

namespace weft::check {

void report::write_dot(std::ostream& out) const {
  using detail::dot_string;
  out << "digraph weft {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n";
  out << "  label=" << dot_string(std::string(to_string(kind)) + (message.empty() ? "" : ": " + message))
      << ";\n  labelloc=t;\n";
  std::set<std::string> objects;
  for (const goroutine_info& gi : goroutines) {
    std::string label = "goroutine " + std::to_string(gi.id) + (gi.is_main ? " (main)" : "") + "\n" + gi.state;
    if (!gi.wait_reason.empty()) label += ": " + gi.wait_reason;
    if (gi.blocked_at.line() != 0 && gi.blocked_at.file_name() != nullptr) {
      std::string file = gi.blocked_at.file_name();
      auto slash = file.find_last_of('/');
      if (slash != std::string::npos) file = file.substr(slash + 1);
      label += "\n" + file + ":" + std::to_string(gi.blocked_at.line());
    }
    out << "  g" << gi.id << " [shape=box, label=" << dot_string(label) << "];\n";
    if (!gi.waiting_on.empty()) objects.insert(gi.waiting_on);
    for (const held_resource& h : gi.holds) objects.insert(h.name);
  }
  const bool lock_order_cycle = kind == check::kind::lock_order;
  if (lock_order_cycle)
    for (const cycle_link& c : cycle) {
      objects.insert(c.holds);
      objects.insert(c.wants);
    }
  for (const std::string& o : objects) out << "  " << dot_string(o) << " [shape=ellipse];\n";
  // An edge of the deadlock's cycle: g waits for `wants`, or holds `holds`.
  auto on_cycle = [&](std::uint64_t g, const std::string& obj, bool waits) {
    if (kind != check::kind::deadlock) return false;
    for (const cycle_link& c : cycle)
      if (c.goroutine == g && (waits ? c.wants : c.holds) == obj) return true;
    return false;
  };
  for (const goroutine_info& gi : goroutines) {
    if (!gi.waiting_on.empty())
      out << "  g" << gi.id << " -> " << dot_string(gi.waiting_on) << " [label=" << dot_string("waits: " + gi.wait_reason)
          << (on_cycle(gi.id, gi.waiting_on, true) ? ", color=red" : "") << "];\n";
    for (const held_resource& h : gi.holds)
      out << "  " << dot_string(h.name) << " -> g" << gi.id << " [label=" << dot_string("held (" + h.mode + ")")
          << ", style=dashed" << (on_cycle(gi.id, h.name, false) ? ", color=red" : "") << "];\n";
  }
  if (lock_order_cycle)
    for (const cycle_link& c : cycle) {
      std::string label = "goroutine " + std::to_string(c.goroutine) + ": " + c.want_mode + " while " + c.hold_mode;
      if (c.wanted_at.file_name() != nullptr && c.wanted_at.line() != 0) {
        std::string file = c.wanted_at.file_name();
        auto slash = file.find_last_of('/');
        if (slash != std::string::npos) file = file.substr(slash + 1);
        label += "\n" + file + ":" + std::to_string(c.wanted_at.line());
      }
      if (c.iteration != 0) label += "\nschedule " + std::to_string(c.iteration);
      out << "  " << dot_string(c.holds) << " -> " << dot_string(c.wants) << " [label=" << dot_string(label)
          << ", color=red];\n";
    }
  out << "}\n";
}

}  // namespace weft::check
