// The wait-for graph at the failure, in Graphviz DOT: goroutines (boxes) point
// at what they wait on (ellipses: chan#1, mutex#2, ...); objects point at the
// goroutines holding them. A deadlock cycle reads as a cycle. Issue 5's
// deadlock detector adds the Coffman conditions to the same picture.
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
  for (const std::string& o : objects) out << "  " << dot_string(o) << " [shape=ellipse];\n";
  for (const goroutine_info& gi : goroutines) {
    if (!gi.waiting_on.empty())
      out << "  g" << gi.id << " -> " << dot_string(gi.waiting_on) << " [label=" << dot_string("waits: " + gi.wait_reason)
          << "];\n";
    for (const held_resource& h : gi.holds)
      out << "  " << dot_string(h.name) << " -> g" << gi.id << " [label=" << dot_string("held (" + h.mode + ")")
          << ", style=dashed];\n";
  }
  out << "}\n";
}

}  // namespace weft::check
