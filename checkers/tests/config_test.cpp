// Settings: the WEFT_* environment (read in one place), options, schedule
// strings. Anything invalid is a clear error saying what was wrong and what
// to do, never a crash. Outside an exploration the harness API falls back to
// plain behaviour.
#include <gtest/gtest.h>

#include <string>

#include <weft/weft.hpp>

#include "helpers.hpp"

using explore_test::opts;
using explore_test::scoped_env;

namespace {

// The config_error message for `f`, or "" if it did not throw one.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const weft::check::config_error& e) {
    return e.what();
  }
  return "";
}

void contains(const std::string& s, const std::string& part) {
  EXPECT_NE(s.find(part), std::string::npos) << "'" << part << "' not in: " << s;
}

// Hand-made schedule strings (to test decoding of versions we do not write).
std::string encode(const std::vector<unsigned char>& payload_without_checksum) {
  std::vector<unsigned char> p = payload_without_checksum;
  std::uint32_t h = 2166136261u;
  for (unsigned char c : p) {
    h ^= c;
    h *= 16777619u;
  }
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<unsigned char>(h >> (8 * i)));
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "w";
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : p) {
    acc = acc << 8 | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += b64[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += b64[(acc << (6 - bits)) & 63];
  return out;
}

weft::check::report replay(const std::string& schedule) {
  return weft::check::explore(opts(weft::check::replay{schedule}, 1), [] {});
}

}  // namespace

TEST(Config, EnvironmentSetsTheDefaults) {
  scoped_env s("WEFT_STRATEGY", "pct:5"), i("WEFT_ITERATIONS", "77"), seed("WEFT_SEED", "0x10"),
      m("WEFT_MAX_STEPS", "1234"), t("WEFT_TIME_BUDGET", "1.5s");
  weft::check::options o;
  ASSERT_TRUE(std::holds_alternative<weft::check::pct>(o.strategy));
  EXPECT_EQ(std::get<weft::check::pct>(o.strategy).depth, 5u);
  EXPECT_EQ(o.iterations, 77u);
  EXPECT_EQ(o.seed, 16u);
  EXPECT_EQ(o.max_steps, 1234u);
  EXPECT_EQ(o.time_budget, std::chrono::milliseconds(1500));
  EXPECT_TRUE(o.stop_on_first_failure);
}

TEST(Config, StrategyNames) {
  using namespace weft::check;
  EXPECT_TRUE(std::holds_alternative<weft::check::random>(parse_strategy("random")));  // (::random is a libc function)
  EXPECT_TRUE(std::holds_alternative<portfolio>(parse_strategy(" Portfolio ")));
  EXPECT_EQ(std::get<pct>(parse_strategy("pct")).depth, 3u);
  EXPECT_FALSE(std::get<dfs>(parse_strategy("dfs")).preemption_bound.has_value());
  EXPECT_EQ(std::get<dfs>(parse_strategy("dfs:2")).preemption_bound, 2u);
  EXPECT_EQ(to_string(strategy{pct{.depth = 2}}), "pct:2");
  EXPECT_EQ(to_string(strategy{dfs{.preemption_bound = 1}}), "dfs:1");
  EXPECT_EQ(to_string(strategy{dfs{}}), "dfs");
  for (const auto& [var, value] : std::vector<std::pair<const char*, const char*>>{
           {"WEFT_TIME_BUDGET", "500ms"}, {"WEFT_TIME_BUDGET", "2m"}, {"WEFT_TIME_BUDGET", "10"}}) {
    scoped_env e(var, value);
    EXPECT_EQ(error_of([] { weft::check::options o; }), "") << value;
  }
}

TEST(Config, MalformedEnvironmentIsAClearError) {
  struct bad {
    const char* var;
    const char* value;
    std::vector<std::string> says;
  };
  for (const bad& b : std::vector<bad>{
           {"WEFT_ITERATIONS", "abc", {"WEFT_ITERATIONS='abc'", "not a whole number", "WEFT_ITERATIONS=1000"}},
           {"WEFT_ITERATIONS", "0", {"WEFT_ITERATIONS=0", "at least 1"}},
           {"WEFT_ITERATIONS", "-3", {"not a whole number"}},
           {"WEFT_SEED", "12x", {"WEFT_SEED='12x'", "e.g."}},
           {"WEFT_MAX_STEPS", "0", {"WEFT_MAX_STEPS=0"}},
           {"WEFT_STRATEGY", "bogus", {"WEFT_STRATEGY", "unknown strategy", "random, pct"}},
           {"WEFT_STRATEGY", "pct:0", {"depth must be at least 1"}},
           {"WEFT_STRATEGY", "pct:x", {"depth must be a small whole number"}},
           {"WEFT_STRATEGY", "random:3", {"takes no parameter"}},
           {"WEFT_STRATEGY", "replay", {"WEFT_REPLAY"}},
           {"WEFT_TIME_BUDGET", "10 parsecs", {"WEFT_TIME_BUDGET='10 parsecs'", "500ms, 10s or 2m"}},
           {"WEFT_TIME_BUDGET", "-1s", {"not a duration"}},
       }) {
    scoped_env e(b.var, b.value);
    const std::string msg = error_of([] { weft::check::options o; });
    ASSERT_FALSE(msg.empty()) << b.var << "=" << b.value;
    for (const auto& part : b.says) contains(msg, part);
    // explore() reads the environment too: the same error, not a crash.
    EXPECT_FALSE(error_of([] { weft::check::read_environment(); }).empty());
  }
}

TEST(Config, InvalidOptionsAreClearErrors) {
  auto o = opts(weft::check::random{}, 0);
  contains(error_of([&] { weft::check::explore(o, [] {}); }), "iterations is 0");
  o = opts(weft::check::random{}, 1);
  o.max_steps = 0;
  contains(error_of([&] { weft::check::explore(o, [] {}); }), "max_steps is 0");
  o = opts(weft::check::pct{.depth = 0}, 1);
  contains(error_of([&] { weft::check::explore(o, [] {}); }), "depth");
  o = opts(weft::check::replay{}, 1);
  contains(error_of([&] { weft::check::explore(o, [] {}); }), "needs a schedule string");
  o = opts(weft::check::random{}, 1);
  o.jitter = weft::duration(-1);
  contains(error_of([&] { weft::check::explore(o, [] {}); }), "jitter");
}

TEST(Config, MalformedSchedulesAreClearErrors) {
  auto good = weft::check::explore(opts(weft::check::random{}, 1000), [] {
    weft::check::shared<int> x{0};
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i) wg.go([&] { x += 1; });
    wg.wait();
    WEFT_ASSERT(x.load() == 2);
  });
  ASSERT_FALSE(good.ok());
  const std::string s = good.schedule;
  contains(error_of([] { replay(" "); }), "it is empty");
  contains(error_of([] { replay("hello"); }), "does not start with 'w'");
  contains(error_of([&] { replay(s.substr(0, s.size() / 2)); }), "malformed schedule string");
  contains(error_of([&] { replay(s.substr(0, s.size() - 1)); }), "malformed schedule string");
  std::string flipped = s;
  flipped[s.size() / 2] = flipped[s.size() / 2] == 'A' ? 'B' : 'A';
  contains(error_of([&] { replay(flipped); }), "checksum does not match");
  std::string bad_char = s;
  bad_char[3] = '!';
  contains(error_of([&] { replay(bad_char); }), "'!' at position 4 is not base64url");
  for (const auto& msg : {error_of([&] { replay(s + "x"); })}) contains(msg, "malformed schedule string");
  // Every message says what to do.
  contains(error_of([] { replay("hello"); }), "Copy the whole string printed after WEFT_REPLAY=");
  // Pasted with its quotes and a newline: fine.
  EXPECT_EQ(error_of([&] { replay("'" + s + "'\n"); }), "");
}

TEST(Config, SchedulesFromOtherVersionsAreRefusedWithAnExplanation) {
  constexpr auto ops = static_cast<unsigned char>(weft::detail::op_list_version);
  // format version 3 (this build reads 1 and 2)
  contains(error_of([] { replay(encode({3, ops, 0, 1, 1, 0, 0, 0, 0})); }), "format version 3");
  // op-list version 99
  contains(error_of([] { replay(encode({1, 99, 0, 1, 1, 0, 0, 0, 0, 0})); }), "version 99");
  contains(error_of([] { replay(encode({1, 99, 0, 1, 1, 0, 0, 0, 0, 0})); }), "Re-run the exploration");
  // A well-formed, empty schedule of this version replays (a program with no
  // decisions).
  EXPECT_EQ(error_of([] { replay(encode({1, ops, 0, 1, 100, 0, 0, 1, 0, 0})); }), "");
}

TEST(Config, WeftReplayWithGarbageIsAClearError) {
  scoped_env e("WEFT_REPLAY", "not a schedule");
  contains(error_of([] { weft::check::explore(opts(weft::check::random{}, 5), [] {}); }),
           "malformed schedule string");
}

TEST(Config, ChooseNeedsAtLeastOneOption) {
  auto r = weft::check::explore(opts(weft::check::random{}, 1), [] { weft::check::choose(0); });
  ASSERT_EQ(r.kind, weft::check::kind::panic);  // the config_error escaped the body
  contains(r.message, "choose(0)");
  EXPECT_EQ(weft::check::choose(1), 0u);
}

TEST(Config, ExploreInsideAGoroutineIsAnError) {
  std::string msg;
  weft::run({.procs = 1}, [&] { msg = error_of([] { weft::check::explore(opts(weft::check::random{}, 1), [] {}); }); });
  contains(msg, "inside a goroutine");
}

TEST(Config, OutsideAnExplorationTheApiIsPlain) {
  EXPECT_FALSE(weft::check::exploring());
  EXPECT_EQ(weft::check::choose(5), 0u);
  weft::check::progress();
  EXPECT_THROW(WEFT_ASSERT(1 + 1 == 3), weft::check::assertion_error);
  try {
    WEFT_ASSERT(false);
  } catch (const weft::check::assertion_error& e) {
    contains(e.what(), "WEFT_ASSERT(false) failed at ");
  }
  EXPECT_THROW(weft::check::fail("no"), weft::check::assertion_error);
  weft::check::shared<int> x{1};
  x += 2;
  EXPECT_EQ(x.load(), 3);
  int raw = 0;
  WEFT_WRITE(&raw, sizeof raw);
  raw = 1;
  // On the real scheduler, too.
  weft::run({.procs = 2}, [] {
    EXPECT_FALSE(weft::check::exploring());
    EXPECT_EQ(weft::check::choose(3), 0u);
    weft::check::shared<std::string> s{std::string("a")};
    s = s.load() + "b";
    EXPECT_EQ(s.load(), "ab");
    EXPECT_THROW(WEFT_ASSERT(false), weft::check::assertion_error);
  });
}

TEST(Config, TimeBudgetStopsTheExploration) {
  auto o = opts(weft::check::random{}, 100'000'000);
  o.time_budget = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto r = weft::check::explore(o, [] { weft::yield(); });
  EXPECT_TRUE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_LT(r.iterations, 100'000'000u);
  contains(r.note, "time budget");
}
