// ThreadSanitizer must see races between goroutines, and nothing else: weft
// tells it about every goroutine (a fiber each) and about exactly the
// happens-before edges of Go's memory model. Runs the programs in programs/ as
// child processes and reads their reports.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "weft/detail/config.hpp"

#ifndef WEFT_RACY_PROGRAM
#error "WEFT_RACY_PROGRAM must name the racy_counter binary"
#endif

namespace {
std::string run_child(const std::string& args) {
  std::string cmd = std::string("TSAN_OPTIONS='halt_on_error=0 exitcode=0' ") + WEFT_RACY_PROGRAM + " " + args + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  ::pclose(p);
  return out;
}
}  // namespace

TEST(ThreadSanitizer, ReportsARaceBetweenGoroutines) {
  if (!WEFT_TSAN) GTEST_SKIP() << "only meaningful in a -fsanitize=thread build (the tsan preset)";
  std::string out = run_child("racy");
  EXPECT_NE(out.find("WARNING: ThreadSanitizer: data race"), std::string::npos) << out;
  EXPECT_NE(out.find("racy_counter.cpp"), std::string::npos) << "the report should point at the racy line:\n" << out;
}

TEST(ThreadSanitizer, SilentOnTheCorrectedTwin) {
  if (!WEFT_TSAN) GTEST_SKIP() << "only meaningful in a -fsanitize=thread build (the tsan preset)";
  std::string out = run_child("fixed");
  EXPECT_EQ(out.find("WARNING: ThreadSanitizer"), std::string::npos) << out;
  EXPECT_NE(out.find("counter=2000"), std::string::npos) << out;
}
