// The starvation detector, under every strategy: the greedy and the polite
// worker of *Concurrency in Go* (the seed catalogue's,
// examples/seeds/greedy_polite.cpp, restated here so the test stands alone)
// on a mutex: the polite one is passed over again and again; on a FIFO lock
// (weft::semaphore) it is served in turn; and two workers that let each other
// in are fair.
#include <chrono>
#include <string>

#include "detect_helpers.hpp"

using namespace std::chrono_literals;
using namespace detect_test;

namespace {

class StarvationDetector : public strategy_test {};

// Virtual time: hundreds of loops (the seed runs 10us; 2us keeps each
// schedule to a few thousand steps).
constexpr weft::duration run_time = 2us;

template <class Lock>
void greedy_worker(Lock& lock) {
  for (auto begin = weft::now(); weft::now() - begin <= run_time;) {
    lines.a = __LINE__ + 1;
    lock.lock();
    weft::sleep(3ns);  // its whole loop under the lock
    lock.unlock();
    weft::check::progress();
  }
}

template <class Lock>
void polite_worker(Lock& lock) {
  for (auto begin = weft::now(); weft::now() - begin <= run_time;) {
    for (int i = 0; i < 3; ++i) {
      lines.b = __LINE__ + 1;
      lock.lock();
      weft::sleep(1ns);
      lock.unlock();
    }
    weft::check::progress();
  }
}

// A lock that serves waiters in arrival order: a semaphore of one unit.
class fifo_lock {
 public:
  void lock(const weft::source_location& where = weft::source_location::current()) {
    (void)units_.acquire(weft::background(), 1, where);
  }
  void unlock() { units_.release(1); }

 private:
  weft::semaphore units_{1};
};

// Goroutine 2 is greedy, goroutine 3 polite.
template <class Lock>
void greedy_and_polite() {
  Lock lock;
  weft::wait_group wg;
  wg.go([&] { greedy_worker(lock); });
  wg.go([&] { polite_worker(lock); });
  wg.wait();
}

}  // namespace

// Random scheduling is itself close to fair: a woken waiter that tries again
// wins the lock about every other time, so losing 65 times in a row (the
// default threshold) has a chance of about 2^-65 per wait and random never
// sees it. PCT and DFS, which let the running goroutine go on as the real
// scheduler does, show the greedy worker barging in every time. Under random
// the test asks for fewer pass-overs in a row.
std::uint64_t threshold_for(const char* strategy) {
  return std::string(strategy) == "random" ? 6 : weft::check::starvation_options{}.threshold;
}

TEST_P(StarvationDetector, ThePoliteWorkerIsPassedOverOnAMutex) {
  auto body = greedy_and_polite<weft::mutex>;
  auto o = opts(200);
  o.starvation.threshold = threshold_for(strategy_name());
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::starvation) << r;
  ASSERT_EQ(r.starved.size(), 1u) << r;
  const auto& w = r.starved[0];
  EXPECT_EQ(w.goroutine, 3u) << r;  // the polite one
  EXPECT_EQ(w.resource, "mutex#1");
  EXPECT_EQ(w.requested_at.line(), line(lines.b));
  EXPECT_EQ(w.passed_over, o.starvation.threshold + 1) << r;
  ASSERT_EQ(w.others.size(), 1u) << r;
  EXPECT_EQ(w.others[0].goroutine, 2u);  // by the greedy one, every time
  EXPECT_EQ(w.others[0].times, w.passed_over);
  EXPECT_EQ(w.others[0].site.line(), line(lines.a));
  EXPECT_EQ(r.message, "goroutine 3 waited for mutex#1 and was passed over " + std::to_string(w.passed_over) +
                           " times while goroutine 2 took it " + std::to_string(w.others[0].times) + " times")
      << r;
  const std::string who = section_text(r, "the waiter and who got mutex#1 instead");
  EXPECT_TRUE(contains(who, "goroutine 3 asked for mutex#1 at ")) << who;
  EXPECT_TRUE(contains(who, "(it had got it " + std::to_string(w.acquired_before) + " times earlier in the run)")) << who;
  EXPECT_TRUE(contains(who, "goroutine 2: " + std::to_string(w.others[0].times) + " times meanwhile")) << who;
  ASSERT_EQ(r.goroutines.size(), 2u) << r;
  expect_replays(r, body, o);
}

TEST_P(StarvationDetector, TheThresholdIsASetting) {
  auto body = greedy_and_polite<weft::mutex>;
  auto o = opts(200);
  o.starvation.threshold = 4;
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::starvation) << r;
  EXPECT_EQ(r.starved.at(0).passed_over, 5u);
  o.starvation.enabled = false;
  o.iterations = 20;
  EXPECT_TRUE(explore(o, body).ok());
}

TEST_P(StarvationDetector, AFifoLockServesThePoliteWorkerInTurn) {
  auto body = greedy_and_polite<fifo_lock>;
  auto o = opts(explore_test::scaled(200));
  o.starvation.threshold = threshold_for(strategy_name());
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(StarvationDetector, TwoWorkersThatLetEachOtherInAreFair) {
  // Each does its work outside the lock, so the other gets it in between.
  auto body = [] {
    weft::mutex mu;
    weft::check::shared<int> count{0};
    weft::wait_group wg;
    for (int w = 0; w < 2; ++w)
      wg.go([&] {
        for (auto begin = weft::now(); weft::now() - begin <= weft::duration(500ns);) {
          mu.lock();
          count += 1;
          mu.unlock();
          weft::sleep(1ns);  // the work, outside the lock
          weft::check::progress();
        }
      });
    wg.wait();
  };
  auto o = opts(explore_test::scaled(200));
  o.starvation.threshold = threshold_for(strategy_name());
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(StarvationDetector, ContentionWithoutBargingIsNoStarvation) {
  // Many goroutines, one lock each once: waiters wait, but nobody is passed
  // over more than a few times.
  auto body = [] {
    weft::mutex mu;
    weft::check::shared<int> count{0};
    weft::wait_group wg;
    for (int w = 0; w < 8; ++w)
      wg.go([&] {
        mu.lock();
        count += 1;
        weft::sleep(1ns);
        mu.unlock();
      });
    wg.wait();
    WEFT_ASSERT(count.load() == 8);
  };
  auto o = opts(explore_test::scaled(300));
  o.starvation.threshold = threshold_for(strategy_name());
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

INSTANTIATE_TEST_SUITE_P(Strategies, StarvationDetector, ::testing::ValuesIn(every_strategy()), param_name);
