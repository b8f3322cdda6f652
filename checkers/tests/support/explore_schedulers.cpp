// Registers the explorer with the runtime test fixture
// (core/tests/support/fixture.hpp): every WEFT_RUNTIME_TEST also runs under
// explore_random and explore_pct, a modest number of schedules each (more with
// WEFT_ITERATIONS). Expectation failures inside the body fail the run they
// happen in, and the test fails with the explorer's report and a replay line.
// As on the real configurations, goroutines still running when the body
// returns get a bounded wait (5 s, here of virtual time) to finish; whatever
// is still blocked after that is reported by the explorer's leak check.
#include <weft/check.hpp>
#include <weft/weft.hpp>

#include "support/fixture.hpp"
#include "weft/detail/config.hpp"

namespace {

constexpr std::uint64_t default_iterations = 25;

weft_test::scheduler_config explore_config(std::string name, weft::check::strategy s) {
  return {std::move(name),
          [s](const std::function<void()>& body) {
            weft::check::options opt;
            opt.strategy = s;
            opt.iterations = weft::check::read_environment().iterations.value_or(default_iterations);
            weft::check::gtest::expect_ok(weft::check::gtest::explore(opt, [&body] {
              body();
              auto wait = std::chrono::milliseconds(1);
              for (auto waited = wait - wait; weft::num_goroutine() > 1 && waited < std::chrono::seconds(5);
                   waited += wait, wait *= 2)
                weft::sleep(wait);
            }));
          },
          /*real=*/false};
}

// Not in ThreadSanitizer builds: the explorer runs every goroutine on one
// thread, so TSan has nothing to find there and CI's TSan time is better spent
// on the real scheduler.
[[maybe_unused]] const bool registered =
    WEFT_TSAN || (weft_test::register_scheduler(explore_config("explore_random", weft::check::random{})) &&
                  weft_test::register_scheduler(explore_config("explore_pct", weft::check::pct{.depth = 3})));

}  // namespace
