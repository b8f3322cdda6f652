#include "support/fixture.hpp"

#include <atomic>
#include <chrono>
#include <weft/weft.hpp>

namespace weft_test {

namespace {

std::vector<scheduler_config>& registry() {
  static std::vector<scheduler_config> r;
  return r;
}

// Goroutines may still be on their way out (after their last send, say).
void expect_no_goroutines_left() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (weft::num_goroutine() > 1 && std::chrono::steady_clock::now() < deadline)
    weft::sleep(std::chrono::milliseconds(1));
  EXPECT_EQ(weft::num_goroutine(), 1u) << "goroutines left running when the test body returned";
}

scheduler_config real(unsigned procs) {
  return {"real_procs" + std::to_string(procs),
          [procs](const std::function<void()>& body) {
            weft::run({.procs = procs}, [&] {
              body();
              expect_no_goroutines_left();
            });
          },
          true};
}

}  // namespace

namespace {
std::atomic<bool> body_on_real{true};
}

bool on_real_scheduler() { return body_on_real.load(); }

void runtime_test::run_body(void (*body)()) {
  body_on_real = GetParam().real;
  GetParam().run(body);
  body_on_real = true;
}

bool register_scheduler(scheduler_config c) {
  registry().push_back(std::move(c));
  return true;
}

const std::vector<scheduler_config>& schedulers() {
  static const std::vector<scheduler_config> all = [] {
    std::vector<scheduler_config> v{real(1), real(2), real(4)};
    for (auto& c : registry()) v.push_back(c);
    return v;
  }();
  return all;
}

std::string config_name(const ::testing::TestParamInfo<scheduler_config>& info) { return info.param.name; }

}  // namespace weft_test
