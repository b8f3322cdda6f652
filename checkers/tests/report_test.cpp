// The report: one text renderer (with a per-goroutine column table), the
// Chrome/Perfetto trace writer, the DOT wait-for graph, and the GoogleTest glue
// (WEFT_TEST, captured expectations, the reproduce line).
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>
#include <string>

#include "corpus.hpp"
#include "helpers.hpp"

using explore_test::opts;
using weft::check::kind;

namespace {

// A strict little JSON syntax checker (enough to know Perfetto will parse it).
class json_checker {
 public:
  explicit json_checker(const std::string& s) : s_(s) {}
  bool ok() {
    ws();
    if (!value()) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool lit(const char* w) {
    std::string x(w);
    if (s_.compare(i_, x.size(), x) != 0) return false;
    i_ += x.size();
    return true;
  }
  bool str() {
    if (s_[i_] != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') ++i_;
    }
    return false;
  }
  bool num() {
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == 'e' ||
                              s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    return i_ > start;
  }
  bool value() {
    ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      ws();
      if (s_[i_] == '}') return ++i_, true;
      for (;;) {
        ws();
        if (!str()) return false;
        ws();
        if (s_[i_++] != ':') return false;
        if (!value()) return false;
        ws();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        return s_[i_++] == '}';
      }
    }
    if (c == '[') {
      ++i_;
      ws();
      if (s_[i_] == ']') return ++i_, true;
      for (;;) {
        if (!value()) return false;
        ws();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        return s_[i_++] == ']';
      }
    }
    if (c == '"') return str();
    if (lit("true") || lit("false") || lit("null")) return true;
    return num();
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

void contains(const std::string& s, const std::string& part) {
  EXPECT_NE(s.find(part), std::string::npos) << "'" << part << "' not in:\n" << s;
}

weft::check::report deadlock() {
  return weft::check::explore(opts(weft::check::random{}, 1000), [] { corpus::deadlock_lock_order(false); });
}

}  // namespace

TEST(Report, TextSaysWhatWhoWhereAndHowToReplay) {
  auto r = deadlock();
  ASSERT_EQ(r.kind, kind::deadlock);
  const std::string t = r.text();
  contains(t, "weft::check: deadlock: all goroutines are asleep - deadlock!");
  contains(t, "found by random at iteration");
  contains(t, "goroutine 1 (main) [blocked: sync.WaitGroup.Wait on waitgroup#1]");
  contains(t, "[blocked: sync.Mutex.Lock on mutex#");
  contains(t, "holds mutex#");
  contains(t, "created by goroutine 1 at ");
  contains(t, "corpus.hpp:");
  contains(t, "to replay this run:\nWEFT_REPLAY='" + r.schedule + "'\n");
  EXPECT_EQ(t.find("0x"), std::string::npos) << "no addresses in a report";
  std::ostringstream via_operator;
  via_operator << r;
  EXPECT_EQ(via_operator.str(), t);
}

TEST(Report, LastStepsAreATableWithOneColumnPerGoroutine) {
  auto r = deadlock();
  const std::string t = r.text(8);
  contains(t, "last 8 of " + std::to_string(r.trace.size()) + " trace rows (one column per goroutine):");
  // The header names every goroutine that appears in those rows, in id order.
  const auto header = t.substr(t.find("  step |"), t.find('\n', t.find("  step |")) - t.find("  step |"));
  EXPECT_LT(header.find("g2"), header.find("g3")) << header;
  // Every row has the same number of columns.
  std::istringstream rows(t.substr(t.find("  step |")));
  std::string line;
  std::size_t bars = std::string::npos;
  for (int i = 0; i < 10 && std::getline(rows, line); ++i) {
    if (line.find("-+-") != std::string::npos) continue;
    const auto n = static_cast<std::size_t>(std::count(line.begin(), line.end(), '|'));
    if (bars == std::string::npos) bars = n;
    EXPECT_EQ(n, bars) << line;
  }
  // The trace ends with the failure.
  EXPECT_EQ(r.trace.back().action, "FAILS: deadlock");
}

TEST(Report, PerfettoTraceIsValidTraceEventJsonWithATrackPerGoroutine) {
  for (const auto& p : corpus::bad_programs()) {
    auto o = opts(weft::check::random{}, 2000);
    o.max_steps = 300;
    auto r = weft::check::explore(o, p.body);
    ASSERT_FALSE(r.ok()) << p.name;
    std::ostringstream out;
    r.write_perfetto(out);
    const std::string j = out.str();
    EXPECT_TRUE(json_checker(j).ok()) << p.name << ":\n" << j.substr(0, 2000);
    contains(j, "\"traceEvents\":[");
    contains(j, "\"name\":\"process_name\",\"ph\":\"M\"");
    contains(j, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"goroutine 1 (main)\"}}");
    contains(j, "\"ph\":\"X\",\"pid\":1,\"tid\":");
    for (const auto& g : r.goroutines)
      contains(j, "\"tid\":" + std::to_string(g.id) + ",\"args\":{\"name\":\"goroutine " + std::to_string(g.id));
  }
}

TEST(Report, PerfettoShowsBlockedIntervals) {
  auto r = weft::check::explore(opts(weft::check::random{}, 10), [] { corpus::deadlock_chan(false); });
  std::ostringstream out;
  r.write_perfetto(out);
  contains(out.str(), "\"name\":\"blocked: chan receive on chan#1\",\"cat\":\"blocked\"");
}

TEST(Report, DotWaitForGraphShowsTheCycle) {
  auto r = deadlock();
  std::ostringstream out;
  r.write_dot(out);
  const std::string d = out.str();
  contains(d, "digraph weft {");
  const auto* a = &r.goroutines.at(1);
  const auto* b = &r.goroutines.at(2);
  contains(d, "g" + std::to_string(a->id) + " -> \"" + a->waiting_on + "\" [label=\"waits: sync.Mutex.Lock\", color=red]");
  contains(d, "\"" + a->holds.at(0).name + "\" -> g" + std::to_string(a->id));
  contains(d, "g" + std::to_string(b->id) + " -> \"" + b->waiting_on + "\"");
  contains(d, "\"" + b->holds.at(0).name + "\" -> g" + std::to_string(b->id));
  EXPECT_EQ(d.back(), '\n');
}

TEST(Report, OkReportSaysHowMuchWasExplored) {
  auto r = weft::check::explore(opts(weft::check::dfs{}, 1000), [] {
    auto ch = weft::make_chan<int>();
    weft::go([ch] { ch.send(1); });
    ch.recv();
  });
  ASSERT_TRUE(r.ok());
  const std::string t = r.text();
  contains(t, "weft::check: ok: " + std::to_string(r.iterations) + " schedule(s) explored by dfs");
  contains(t, "dfs explored the whole schedule space");
}

TEST(Report, KindsPrintTheirNames) {
  EXPECT_STREQ(weft::check::to_string(kind::ok), "ok");
  EXPECT_STREQ(weft::check::to_string(kind::lock_order), "lock_order");
  EXPECT_STREQ(weft::check::to_string(kind::step_bound), "step_bound");
  EXPECT_STREQ(weft::check::to_string(kind::nondeterminism), "nondeterminism");
}

// ------------------------------------------------------------------ GoogleTest glue

WEFT_TEST(Report, WeftTestExploresItsBody) {
  EXPECT_TRUE(weft::check::exploring());
  auto ch = weft::make_chan<int>(1);
  weft::go([ch] { ch.send(42); });
  EXPECT_EQ(ch.recv(), 42);
}

TEST(Report, ExpectationFailuresInsideGoroutinesFailTheRunOnce) {
  auto r = weft::check::gtest::explore(explore_test::without_race_detector(opts(weft::check::pct{}, 1000)), [] {
    weft::check::shared<int> x{0};
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i) wg.go([&] { x += 1; });
    wg.wait();
    EXPECT_EQ(x.load(), 2) << "lost an update";
  });
  ASSERT_EQ(r.kind, kind::assertion) << r;
  contains(r.message, "test expectation failed at ");
  contains(r.message, "report_test.cpp:");
  contains(r.message, "lost an update");
  EXPECT_FALSE(::testing::Test::HasFailure()) << "captured, not reported to gtest directly";
}

TEST(Report, TheFailureMessageEndsWithALineThatReproducesIt) {
  auto r = deadlock();
  const std::string cmd = weft::check::gtest::reproduce_command(r);
  contains(cmd, "WEFT_REPLAY='" + r.schedule + "' ");
  contains(cmd, "weft_explore_tests --gtest_filter=Report.TheFailureMessageEndsWithALineThatReproducesIt");
  r.replay_command = cmd;
  const std::string t = r.text();
  EXPECT_EQ(t.substr(t.size() - cmd.size() - 1), cmd + "\n");
}

