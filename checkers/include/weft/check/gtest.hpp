// GoogleTest glue for the explorer (header-only: the weft::check library itself
// never links GoogleTest).
//
//   WEFT_TEST(Pipeline, PreservesOrder) {     // a TEST whose body is explored
//     auto ch = weft::make_chan<int>(2);
//     ...
//     EXPECT_EQ(got, want);                   // gtest expectations work inside
//   }
//
// WEFT_TEST explores its body with options from the WEFT_* environment and,
// on a failure, fails the test with the report; the message ends with one line
// that reproduces the failing run:
//   WEFT_REPLAY='w1…' /path/to/test_binary --gtest_filter=Pipeline.PreservesOrder
//
// Expectation failures (EXPECT_*, ASSERT_*, ADD_FAILURE) made by goroutines
// during an exploration are captured: the first one fails that run with
// kind::assertion (and is shrunk and replayed like any failure) instead of
// being reported once per iteration.
#pragma once

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "weft/check/explore.hpp"

namespace weft::check {

namespace detail {
// The running executable's path, for the reproduce line.
std::string executable_path();
}  // namespace detail

namespace gtest {

// While alive, test-part results on this thread go to the running iteration
// (a failure fails it) instead of to GoogleTest. Results that arrive outside
// any exploration are kept and re-reported by explore() below.
class capture_failures : public ::testing::ScopedFakeTestPartResultReporter {
 public:
  capture_failures()
      : ::testing::ScopedFakeTestPartResultReporter(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &ignored_) {}

  void ReportTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.failed() && exploring()) {
      std::string where = std::string(r.file_name() != nullptr ? r.file_name() : "unknown file") +
                          ':' + std::to_string(r.line_number());
      detail::note_failure(kind::assertion,
                           "test expectation failed at " + where + ":\n" + r.message(), where);
      return;
    }
    if (!exploring()) {
      leftovers_.push_back(r);
    } else if (r.skipped() && !skipped_) {
      skipped_ = true;  // GTEST_SKIP in the body: the test is skipped (once, not per run)
      leftovers_.push_back(r);
    }
  }
  std::vector<::testing::TestPartResult> take_leftovers() { return std::move(leftovers_); }

 private:
  ::testing::TestPartResultArray ignored_;
  std::vector<::testing::TestPartResult> leftovers_;
  bool skipped_ = false;
};

namespace detail {
inline void skip_with(const ::testing::TestPartResult& r) { GTEST_SKIP() << r.message(); }
}  // namespace detail

// explore() with expectation failures captured as above.
template <class F>
report explore(const options& opt, F&& body,
               const weft::source_location& site = weft::source_location::current()) {
  std::vector<::testing::TestPartResult> leftovers;
  report r;
  {
    capture_failures capture;
    r = ::weft::check::explore(opt, std::forward<F>(body), site);
    leftovers = capture.take_leftovers();
  }
  for (const auto& p : leftovers) {
    if (p.failed())
      ADD_FAILURE_AT(p.file_name() != nullptr ? p.file_name() : "unknown file", p.line_number())
          << p.message();
    else if (p.skipped())
      detail::skip_with(p);
  }
  return r;
}

// The line that re-runs the current test on exactly r's schedule.
inline std::string reproduce_command(const report& r) {
  std::string filter;
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
    filter = std::string(info->test_suite_name()) + "." + info->name();
  std::string cmd = "WEFT_REPLAY='" + r.schedule + "' " + ::weft::check::detail::executable_path();
  if (!filter.empty()) cmd += " --gtest_filter=" + filter;
  return cmd;
}

// Fail the current test with r unless it is ok.
inline void expect_ok(report r, const weft::source_location& site = weft::source_location::current()) {
  if (r.ok()) return;
  if (!r.schedule.empty()) r.replay_command = reproduce_command(r);
  // The exploration's note (how far shrinking got) first: the reproduce line
  // stays the message's last.
  ADD_FAILURE_AT(site.file_name(), static_cast<int>(site.line()))
      << (r.note.empty() ? std::string() : "(" + r.note + ")\n") << r;
}

inline void run_test(void (*body)(), const weft::source_location& site) {
  options opt;
  expect_ok(gtest::explore(opt, body, site), site);
}

}  // namespace gtest
}  // namespace weft::check

// A GoogleTest TEST whose body is explored (options from WEFT_* variables).
#define WEFT_TEST(suite, name)                                                                  \
  static void weft_check_test_body_##suite##_##name();                                          \
  TEST(suite, name) {                                                                           \
    ::weft::check::gtest::run_test(&weft_check_test_body_##suite##_##name,                     \
                                   ::weft::source_location::current());                          \
  }                                                                                             \
  static void weft_check_test_body_##suite##_##name()
