// Chrome/Perfetto Trace Event Format (JSON): loads in ui.perfetto.dev and
// chrome://tracing. One process (the run), one thread track per goroutine
// (tid = goroutine id; tid 0 is the scheduler: clock and timers). Trace time is
// the step number: step s occupies [s, s+1) µs, shared by the rows a goroutine
// has in that step; a blocked goroutine gets a "blocked: ..." slice from its
// park to its next step. Virtual time is in each slice's args.
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <utility>

#include "report/json.hpp"
#include "weft/check/report.hpp"

namespace weft::check {

namespace {

std::string ts_text(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

}  // namespace

void report::write_perfetto(std::ostream& out) const {
  using detail::json_string;
  out << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  bool first = true;
  auto emit = [&](const std::string& ev) {
    out << (first ? "" : ",\n") << ev;
    first = false;
  };

  std::string title = "weft explore: " + std::string(to_string(kind));
  if (!ok()) title += " (" + message + ")";
  emit("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":" + json_string(title) +
       "}}");

  std::set<std::uint64_t> tracks;
  for (const step& s : trace) tracks.insert(s.goroutine);
  for (const goroutine_info& gi : goroutines) tracks.insert(gi.id);
  std::set<std::uint64_t> mains;
  for (const goroutine_info& gi : goroutines)
    if (gi.is_main) mains.insert(gi.id);
  for (std::uint64_t id : tracks) {
    std::string name = id == 0 ? std::string("scheduler (clock, timers)")
                               : "goroutine " + std::to_string(id) + (id == 1 || mains.count(id) ? " (main)" : "");
    emit("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(id) +
         ",\"args\":{\"name\":" + json_string(name) + "}}");
    emit("{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(id) +
         ",\"args\":{\"sort_index\":" + std::to_string(id == 0 ? 1u << 30 : id) + "}}");
  }

  // Rows per (goroutine, step), to share the step's slot.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t> rows, seen;
  for (const step& s : trace) ++rows[{s.goroutine, s.index}];

  std::map<std::uint64_t, std::pair<std::uint64_t, std::string>> blocked;  // goroutine -> (park step, what)
  for (const step& s : trace) {
    auto key = std::make_pair(s.goroutine, s.index);
    if (seen[key] == 0) {
      auto b = blocked.find(s.goroutine);
      if (b != blocked.end()) {
        const double start = static_cast<double>(b->second.first) + 1;
        const double end = static_cast<double>(s.index);
        if (end > start)
          emit("{\"name\":" + json_string("blocked: " + b->second.second) +
               ",\"cat\":\"blocked\",\"ph\":\"X\",\"pid\":1,\"tid\":" + std::to_string(s.goroutine) +
               ",\"ts\":" + ts_text(start) + ",\"dur\":" + ts_text(end - start) + "}");
        blocked.erase(b);
      }
    }
    const std::uint32_t n = rows[key];
    const std::uint32_t j = seen[key]++;
    const double ts = static_cast<double>(s.index) + static_cast<double>(j) / n;
    emit("{\"name\":" + json_string(s.action) + ",\"cat\":\"step\",\"ph\":\"X\",\"pid\":1,\"tid\":" +
         std::to_string(s.goroutine) + ",\"ts\":" + ts_text(ts) + ",\"dur\":" + ts_text(1.0 / n) +
         ",\"args\":{\"step\":" + std::to_string(s.index) + ",\"virtual_time_ns\":" + std::to_string(s.time_ns) +
         "}}");
    constexpr std::string_view blocks = "blocks: ";
    if (s.action.compare(0, blocks.size(), blocks) == 0)
      blocked[s.goroutine] = {s.index, s.action.substr(blocks.size())};
  }
  // Still blocked at the end of the run.
  const double end = trace.empty() ? 0.0 : static_cast<double>(trace.back().index) + 1;
  for (const auto& [id, b] : blocked) {
    const double start = static_cast<double>(b.first) + 1;
    if (end > start)
      emit("{\"name\":" + json_string("blocked: " + b.second) + ",\"cat\":\"blocked\",\"ph\":\"X\",\"pid\":1,\"tid\":" +
           std::to_string(id) + ",\"ts\":" + ts_text(start) + ",\"dur\":" + ts_text(end - start) + "}");
  }
  out << "\n]}\n";
}

}  // namespace weft::check
