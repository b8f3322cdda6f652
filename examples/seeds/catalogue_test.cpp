// The catalogue ctest (label explore): for every seed program, exploring the
// bad version reaches its expected verdict within the program's budget, the
// failing schedule replays to the identical report, and the fixed twin stays
// clean over the whole budget.
//
// When a verdict does not come, a probe (seeds::detects: a minimal program of
// that kind) tells whether the detector itself stopped working or only this
// program escapes it.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <weft/check/explore.hpp>
#include <weft/check/report.hpp>
#include <weft/detail/config.hpp>

#include "seeds.hpp"

using weft::check::kind;

namespace {

// Options that do not depend on the WEFT_* environment the test runs under.
weft::check::options clean_options() {
  static const char* const names[] = {"WEFT_STRATEGY", "WEFT_ITERATIONS", "WEFT_SEED",
                                      "WEFT_REPLAY",   "WEFT_MAX_STEPS",  "WEFT_TIME_BUDGET"};
  std::optional<std::string> saved[std::size(names)];
  for (std::size_t i = 0; i < std::size(names); ++i) {
    if (const char* v = std::getenv(names[i])) saved[i] = v;
    ::unsetenv(names[i]);
  }
  weft::check::options o;
  for (std::size_t i = 0; i < std::size(names); ++i)
    if (saved[i]) ::setenv(names[i], saved[i]->c_str(), 1);
  return o;
}

weft::check::options options_for(const seeds::program& p) {
  return seeds::options_for(p, clean_options());
}

std::string missing(kind k) {
  return std::string("waits on the ") + weft::check::to_string(k) +
         " detector (issue 5): a minimal " + weft::check::to_string(k) +
         " program is not reported as one by this build yet";
}

std::string perfetto(const weft::check::report& r) {
  std::ostringstream o;
  r.write_perfetto(o);
  return o.str();
}

std::string dot(const weft::check::report& r) {
  std::ostringstream o;
  r.write_dot(o);
  return o.str();
}

// Parameterised by program name, so that ctest lists "GetParam() = print_sum".
class Catalogue : public ::testing::TestWithParam<std::string> {
 protected:
  const seeds::program& program() const { return *seeds::find(GetParam()); }
};

TEST_P(Catalogue, BadVersionReachesItsVerdictAndReplaysExactly) {
  const seeds::program& p = program();
  // Every detector exists now: a verdict that does not come is a failure, and
  // the probe only helps to explain it.
  ASSERT_TRUE(seeds::detects(p.expected)) << p.name << " expects " << weft::check::to_string(p.expected)
                                          << ", which " << missing(p.expected);
  const weft::check::options opt = options_for(p);
  const weft::check::report found = seeds::explore(p, seeds::variant::bad, opt);
  ASSERT_EQ(found.kind, p.expected) << p.title << ": " << p.bug << "\n" << found;
  EXPECT_GE(found.iteration, 1u);
  EXPECT_LE(found.iteration, p.budget);
  EXPECT_FALSE(found.schedule.empty());
  EXPECT_FALSE(found.goroutines.empty()) << "a report names the goroutines involved\n" << found;

  weft::check::options again = clean_options();
  again.strategy = weft::check::replay{found.schedule};
  const weft::check::report replayed = seeds::explore(p, seeds::variant::bad, again);
  EXPECT_EQ(replayed.kind, found.kind) << replayed;
  EXPECT_EQ(replayed.text(), found.text());
  EXPECT_EQ(perfetto(replayed), perfetto(found));
  EXPECT_EQ(dot(replayed), dot(found));
  EXPECT_EQ(replayed.schedule, found.schedule);
  EXPECT_EQ(replayed.iteration, found.iteration);
}

TEST_P(Catalogue, FixedTwinIsClean) {
  const seeds::program& p = program();
  const weft::check::options opt = options_for(p);
  const weft::check::report r = seeds::explore(p, seeds::variant::fixed, opt);
  EXPECT_TRUE(r.ok()) << p.title << ", fixed: " << p.fix << "\n" << r;
  if (!r.exhausted) {
    EXPECT_EQ(r.iterations, p.budget) << "the twin is explored over the whole budget";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, Catalogue, ::testing::ValuesIn([] {
                           std::vector<std::string> all;
                           for (const seeds::program& p : seeds::catalogue()) all.emplace_back(p.name);
                           return all;
                         }()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// printSum's deadlock is a cycle of two mutexes: the report must say why it is
// a deadlock, condition by condition (Coffman), with the cycle.
TEST(CatalogueDeadlock, PrintSumStatesTheCoffmanConditions) {
  ASSERT_TRUE(seeds::detects_partial_deadlock())
      << "a cycle of mutex waits that forms while main still runs is not reported as a deadlock";
  const seeds::program& p = *seeds::find("print_sum");
  const weft::check::report r = seeds::explore(p, seeds::variant::bad, options_for(p));
  ASSERT_EQ(r.kind, kind::deadlock) << r;
  std::string text = r.text();
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* condition : {"mutual exclusion", "hold and wait", "no preemption", "circular wait"})
    EXPECT_NE(text.find(condition), std::string::npos) << "the report should state '" << condition << "'\n" << r;
  // Both goroutines, each holding one mutex and waiting for the other.
  int holding = 0;
  for (const auto& g : r.goroutines)
    if (!g.holds.empty() && !g.waiting_on.empty()) ++holding;
  EXPECT_EQ(holding, 2) << r;
}

// The catalogue itself: names are unique and each standalone binary's name
// (weft_seed_<name>) finds its program.
TEST(CatalogueRegistry, NamesAreUniqueAndFound) {
  std::set<std::string_view> names;
  for (const seeds::program& p : seeds::catalogue()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    EXPECT_EQ(seeds::find(p.name), &p);
    EXPECT_NE(p.expected, kind::ok) << p.name << ": a bad version must be bad in some way";
    EXPECT_GT(p.budget, 0u);
  }
  EXPECT_EQ(seeds::find("no such program"), nullptr);
}

}  // namespace
