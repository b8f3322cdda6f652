#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <weft/weft.hpp>

#include "support/fixture.hpp"

namespace {

// The seeds' error-propagation example, in weft: a low-level module's raw
// error, an intermediate module that wraps it into its own well-formed type,
// and a top level that shows well-formed errors to the user and reports the
// rest as bugs with the id to look up in the log.
struct low_level_err : weft::error_base {
  std::string message() const override { return "low level failure"; }
};

struct intermediate_err : weft::error_base {
  std::string user_message;
  explicit intermediate_err(std::string m) : user_message(std::move(m)) {}
  std::string message() const override { return user_message; }
};

weft::error is_globally_exec(const std::string& path) {
  if (path == "/bad/binary") return weft::error(low_level_err{}, weft::error{"stat /bad/binary: no such file"});
  return {};
}

weft::error run_job(const std::string& id, bool wrap_well) {
  const std::string binary = "/bad/binary";
  weft::error err = is_globally_exec(binary);
  if (!err) return {};
  if (wrap_well) return weft::error(intermediate_err{"cannot run job \"" + id + "\": requisite binaries not available"}, err);
  return err;  // a bug: the raw low-level error escapes
}

std::string handle_error(const weft::error& err, std::string* log) {
  *log = err.details();
  std::string msg = "There was an unexpected issue; please report this as a bug.";
  if (auto e = weft::as<intermediate_err>(err)) msg = e->user_message;
  return "[logID: " + std::to_string(err.id()) + "]: " + msg;
}

struct code_error : weft::error_base {
  int code;
  explicit code_error(int c) : code(c) {}
  std::string message() const override { return "code " + std::to_string(code); }
};

// An error type whose matches() accepts any code_error with the same code.
struct matches_code : weft::error_base {
  int code;
  explicit matches_code(int c) : code(c) {}
  std::string message() const override { return {}; }
  bool matches(const weft::error_base& target) const noexcept override {
    auto* t = dynamic_cast<const code_error*>(&target);
    return t != nullptr && t->code == code;
  }
};

const weft::error not_found = weft::error::sentinel("not found");

// noinline: the test is about which frame the trace starts in, so this one must exist.
[[gnu::noinline]] weft::error make_in_named_function() { return weft::error{"made here"}; }

}  // namespace

TEST(Error, DefaultIsSuccess) {
  weft::error e;
  EXPECT_FALSE(e);
  EXPECT_EQ(e.message(), "");
  EXPECT_STREQ(e.what(), "");
  EXPECT_FALSE(e.unwrap());
  EXPECT_EQ(e.id(), 0u);
  EXPECT_TRUE(weft::is(e, weft::error{}));
  std::ostringstream os;
  os << e;
  EXPECT_EQ(os.str(), "<nil>");
}

TEST(Error, MessageAndWhat) {
  weft::error e{"disk full"};
  ASSERT_TRUE(e);
  EXPECT_EQ(e.message(), "disk full");
  EXPECT_STREQ(e.what(), "disk full");
  EXPECT_EQ(e.what(), e.what());  // cached
  weft::error copy = e;
  EXPECT_EQ(copy, e);
  EXPECT_EQ(copy.what(), e.what());  // shared payload
  std::ostringstream os;
  os << e;
  EXPECT_EQ(os.str(), "disk full");
  EXPECT_NE(weft::error{"disk full"}, e);  // equal text is not the same error
}

TEST(Error, WrapChain) {
  weft::error base{"connection reset"};
  weft::error mid = weft::wrap(base, "reading header");
  weft::error top = weft::wrap(mid, "fetching user 7");
  EXPECT_EQ(top.message(), "fetching user 7: reading header: connection reset");
  EXPECT_EQ(top.unwrap(), mid);
  EXPECT_EQ(top.unwrap().unwrap(), base);
  EXPECT_FALSE(base.unwrap());
  EXPECT_TRUE(weft::is(top, base));
  EXPECT_TRUE(weft::is(top, mid));
  EXPECT_TRUE(weft::is(top, top));
  EXPECT_FALSE(weft::is(base, top));
  EXPECT_FALSE(weft::is(top, weft::error{"connection reset"}));
  EXPECT_FALSE(weft::is(top, weft::error{}));
  // Wrapping success is success.
  EXPECT_FALSE(weft::wrap(weft::error{}, "step"));
}

TEST(Error, Sentinels) {
  EXPECT_EQ(weft::canceled.message(), "context canceled");
  EXPECT_EQ(weft::deadline_exceeded.message(), "context deadline exceeded");
  EXPECT_FALSE(weft::canceled.has_stack());
  EXPECT_FALSE(weft::deadline_exceeded.has_stack());
  EXPECT_FALSE(weft::is(weft::canceled, weft::deadline_exceeded));
  weft::error w = weft::wrap(weft::deadline_exceeded, "calling backend");
  EXPECT_TRUE(weft::is(w, weft::deadline_exceeded));
  EXPECT_FALSE(weft::is(w, weft::canceled));
  EXPECT_EQ(w.message(), "calling backend: context deadline exceeded");
  // User sentinels behave the same way.
  weft::error lookup = weft::wrap(not_found, "user 7");
  EXPECT_TRUE(weft::is(lookup, not_found));
  EXPECT_FALSE(not_found.has_stack());
  EXPECT_EQ(not_found.when(), std::chrono::system_clock::time_point{});
}

TEST(Error, TypedErrorsAndAs) {
  weft::error e = weft::wrap(weft::error(code_error{404}, weft::error{"no route"}), "GET /x");
  EXPECT_EQ(e.message(), "GET /x: code 404: no route");
  auto ce = weft::as<code_error>(e);
  ASSERT_NE(ce, nullptr);
  EXPECT_EQ(ce->code, 404);
  EXPECT_EQ(weft::as<intermediate_err>(e), nullptr);
  std::shared_ptr<const code_error> out;
  EXPECT_TRUE(weft::as(e, out));
  EXPECT_EQ(out, ce);
  // The result owns the chain: it outlives the error it came from.
  std::shared_ptr<const code_error> kept;
  {
    weft::error tmp = code_error{7};
    kept = weft::as<code_error>(tmp);
  }
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->code, 7);
  EXPECT_EQ(kept->message(), "code 7");
  // A typed layer with an empty message only adds its type.
  weft::error tagged(matches_code{5}, weft::error{"boom"});
  EXPECT_EQ(tagged.message(), "boom");
}

TEST(Error, CustomIs) {
  weft::error e(matches_code{500}, weft::error{"internal"});
  weft::error target = code_error{500};
  EXPECT_TRUE(weft::is(e, target));
  EXPECT_FALSE(weft::is(e, weft::error(code_error{404})));
}

TEST(Error, RecordsWhereAndWhen) {
  const auto before = std::chrono::system_clock::now();
  const int line = __LINE__ + 1;
  weft::error e{"x"};
  const auto after = std::chrono::system_clock::now();
  EXPECT_EQ(e.where().line(), static_cast<std::uint_least32_t>(line));
  EXPECT_NE(std::string(e.where().file_name()).find("error_test.cpp"), std::string::npos);
  EXPECT_GE(e.when(), before);
  EXPECT_LE(e.when(), after);
  EXPECT_EQ(e.goroutine(), 0u);  // outside any goroutine
  // The wrap records its own site.
  const int wline = __LINE__ + 1;
  weft::error w = weft::wrap(e, "y");
  EXPECT_EQ(w.where().line(), static_cast<std::uint_least32_t>(wline));
}

TEST(Error, IdsAreUnique) {
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 1000; ++i) {
    weft::error e{"e"};
    EXPECT_NE(e.id(), 0u);
    ids.insert(e.id());
  }
  EXPECT_EQ(ids.size(), 1000u);
  weft::error a{"a"};
  weft::error b = weft::wrap(a, "b");
  EXPECT_NE(a.id(), b.id());
  EXPECT_GT(b.id(), a.id());
}

TEST(Error, StackTraceStartsInTheMakingFunction) {
  weft::error e = make_in_named_function();
  ASSERT_TRUE(e.has_stack());
  auto frames = e.stack();
  ASSERT_FALSE(frames.empty());
  EXPECT_NE(frames[0].function.find("make_in_named_function"), std::string::npos) << e.stack_trace();
  bool test_frame = false;
  for (auto& f : frames)
    if (f.file.find("error_test.cpp") != std::string::npos) test_frame = true;
  EXPECT_TRUE(test_frame) << e.stack_trace();
  std::string text = e.stack_trace();
  EXPECT_NE(text.find("make_in_named_function"), std::string::npos);
  EXPECT_EQ(e.raw_stack().size(), frames.size());
  EXPECT_NE(e.stack_hash(), 0u);
  EXPECT_EQ(e.stack_hash(), make_in_named_function().stack_hash());  // same site, same stack
}

TEST(Error, StackCaptureCanBeTurnedOff) {
  weft::set_error_stack_capture(false);
  weft::error e{"cheap"};
  weft::set_error_stack_capture(true);
  EXPECT_FALSE(e.has_stack());
  EXPECT_TRUE(e.stack().empty());
  EXPECT_NE(e.when(), std::chrono::system_clock::time_point{});  // still records time and id
  EXPECT_NE(e.id(), 0u);
  EXPECT_TRUE(weft::error{"full"}.has_stack());
}

TEST(Error, SeedsErrorPropagation) {
  std::string log;
  weft::error raw = run_job("1", false);
  std::string shown = handle_error(raw, &log);
  EXPECT_EQ(shown, "[logID: " + std::to_string(raw.id()) +
                       "]: There was an unexpected issue; please report this as a bug.");
  EXPECT_NE(log.find("low level failure: stat /bad/binary: no such file"), std::string::npos) << log;

  weft::error good = run_job("1", true);
  shown = handle_error(good, &log);
  EXPECT_EQ(shown, "[logID: " + std::to_string(good.id()) +
                       "]: cannot run job \"1\": requisite binaries not available");
  // The log record carries every layer, the time (UTC), the host, and a stack
  // that reaches the function where the low-level error was made.
  EXPECT_NE(log.find("error " + std::to_string(good.id())), std::string::npos) << log;
  EXPECT_NE(log.find("caused by error"), std::string::npos) << log;
  EXPECT_NE(log.find("Z host "), std::string::npos) << log;
  EXPECT_NE(log.find("is_globally_exec"), std::string::npos) << log;
  EXPECT_TRUE(weft::as<low_level_err>(good));
}

WEFT_RUNTIME_SUITE(ErrorRt);

WEFT_RUNTIME_TEST(ErrorRt, RecordsGoroutineAndStackInsideGoroutines) {
  weft::error main_err{"in main"};
  EXPECT_NE(main_err.goroutine(), 0u);
  auto ch = weft::make_chan<weft::error>(1);
  weft::go([ch] { ch.send(make_in_named_function()); });
  weft::error e = *ch.recv();
  EXPECT_NE(e.goroutine(), 0u);
  EXPECT_NE(e.goroutine(), main_err.goroutine());
  auto frames = e.stack();
  ASSERT_FALSE(frames.empty());
  EXPECT_NE(frames[0].function.find("make_in_named_function"), std::string::npos) << e.stack_trace();
}

WEFT_RUNTIME_TEST(ErrorRt, SharedAcrossGoroutines) {
  // Copies of one error are read concurrently (what() races to fill its cache).
  weft::error e = weft::wrap(weft::error{"inner"}, "outer");
  auto done = weft::make_chan<int>(8);
  for (int i = 0; i < 8; ++i)
    weft::go([e, done] {
      weft::error copy = e;
      int ok = std::string(copy.what()) == "outer: inner" && weft::is(copy, e.unwrap()) ? 1 : 0;
      done.send(ok);
    });
  int sum = 0;
  for (int i = 0; i < 8; ++i) sum += *done.recv();
  EXPECT_EQ(sum, 8);
}
