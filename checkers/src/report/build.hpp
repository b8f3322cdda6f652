// From a failing run's records (failure, trace) to a public report. Objects are
// named by kind and first appearance ("chan#1"), never by address, so the same
// run always yields the same report.
#pragma once

#include <cstdint>
#include <string>
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

}  // namespace weft::check::detail
