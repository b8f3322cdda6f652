// One fixture runs a runtime test under every scheduler (STYLE.md point 9):
// the real scheduler at 1, 2 and 4 procs, and every configuration registered
// by other parts of the build (the explorer registers random and PCT).
//
//   WEFT_RUNTIME_SUITE(Chan);                  // once per suite
//   WEFT_RUNTIME_TEST(Chan, Unbuffered) {      // body runs as the main goroutine
//     auto ch = weft::make_chan<int>();
//     ...
//   }
//
// After the body returns, every goroutine it started must have finished
// (checked with a bounded wait): a runtime test that leaks fails.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace weft_test {

struct scheduler_config {
  std::string name;  // a valid gtest parameter name
  // Run body as the main goroutine of a fresh runtime; report failures with
  // gtest assertions.
  std::function<void(const std::function<void()>& body)> run;
  bool real = true;  // real threads and real time (false: the explorer)
};

// What gtest prints for a parameter (instead of its bytes).
inline void PrintTo(const scheduler_config& c, std::ostream* os) { *os << c.name; }

// Every configuration, the real ones first.
const std::vector<scheduler_config>& schedulers();
// For other libraries linked into a test binary (static initialisers).
bool register_scheduler(scheduler_config c);

// Inside a body: does it run on the real scheduler (real threads, real time)?
// Under the explorer time is virtual and runs are deterministic, so a body may
// assert orderings there that real time cannot promise.
bool on_real_scheduler();

class runtime_test : public ::testing::TestWithParam<scheduler_config> {
 protected:
  void run_body(void (*body)());
  bool real_scheduler() const { return GetParam().real; }
};

std::string config_name(const ::testing::TestParamInfo<scheduler_config>& info);

}  // namespace weft_test

#define WEFT_RUNTIME_SUITE(suite)                                                           \
  class suite : public ::weft_test::runtime_test {};                                        \
  INSTANTIATE_TEST_SUITE_P(Sched, suite, ::testing::ValuesIn(::weft_test::schedulers()), \
                           ::weft_test::config_name)

#define WEFT_RUNTIME_TEST(suite, name)                       \
  static void weft_body_##suite##_##name();                  \
  TEST_P(suite, name) { run_body(&weft_body_##suite##_##name); } \
  static void weft_body_##suite##_##name()
