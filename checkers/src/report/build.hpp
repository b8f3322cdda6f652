// From a failing run's records (failure, trace) to a public report. Objects are
// named by kind and first appearance ("chan#1"), never by address, so the same
// run always yields the same report.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "explore/decision.hpp"
#include "weft/check/report.hpp"

namespace weft::check::detail {

struct run_meta {
  std::uint64_t seed = 0;
  std::uint64_t iteration = 0;
  std::string finder;
  std::string schedule;
  std::uint64_t steps = 0;
  std::uint64_t preemptions = 0;
  std::int64_t time_ns = 0;
};

report build_report(const failure& f, const std::vector<event>& trace, const run_meta& meta);

// Deterministic object names: kind#n in order of first appearance.
class namer {
 public:
  std::string operator()(const void* obj, const char* kind);

 private:
  std::unordered_map<const void*, std::string> names_;
  std::map<std::string, int> counts_;
};

const char* object_kind(weft::detail::op o) noexcept;
const char* object_kind(weft::detail::wait_reason r) noexcept;
const char* object_kind(weft::detail::resource_kind k) noexcept;
const char* hold_mode(weft::detail::resource_kind k) noexcept;   // "locked", "read-locked", ...
const char* want_mode(weft::detail::resource_kind k) noexcept;   // "lock", "read-lock", ...

// One trace event as a report row's action; false for events a report does
// not show (happens-before records, the interleaving point before a plain
// access). Names every object it mentions, in order.
bool render_event(const event& e, namer& name, std::string& action);
// Names every object of trace[0, n) as build_report would (for describing a
// goroutine before the report exists, e.g. to filter leaks).
void name_objects(const std::vector<event>& trace, std::size_t n, namer& name);
goroutine_info describe_goroutine(const goroutine_snapshot& s, const failure* f, namer& name);

// The detector's evidence (f.found) into the report's fields, its details
// sections and a message that names things (report/describe.cpp).
void describe_finding(report& r, const failure& f, const std::vector<event>& trace, namer& name);

}  // namespace weft::check::detail
