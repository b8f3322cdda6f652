// Misuse, under every strategy: Go's runtime panics (send on a closed
// channel, close of a closed or nil channel, a negative WaitGroup counter,
// unlock of an unlocked mutex or rw_mutex) end the run with kind::panic and
// Go's message, name the goroutine that panicked, explain what the panic
// means, and replay to the identical report; their correct twins are clean.
#include <functional>
#include <string>
#include <vector>

#include "detect_helpers.hpp"

using namespace detect_test;

namespace {

class MisuseDetector : public strategy_test {};

struct misuse {
  const char* name;
  std::string message;   // the report's message: "panic: " + Go's
  std::uint64_t who;     // the goroutine that panics
  std::function<void()> bad, good;
};

std::vector<misuse> programs() {
  return {
      {"send on closed channel", "panic: send on closed channel", 2,
       // The producer may send after main closed: it depends on the schedule.
       [] {
         auto ch = weft::make_chan<int>(1);
         auto sent = weft::make_chan<weft::unit>();
         weft::go([ch, sent] {
           ch.send(1);
           sent.send({});
         });
         ch.close();
         sent.recv();
       },
       [] {
         auto ch = weft::make_chan<int>(1);
         auto sent = weft::make_chan<weft::unit>();
         weft::go([ch, sent] {
           ch.send(1);
           sent.send({});
         });
         sent.recv();
         ch.close();
       }},
      {"close of closed channel", "panic: close of closed channel", 0,
       // Two goroutines each close the channel when done: the second panics.
       [] {
         auto ch = weft::make_chan<int>();
         weft::wait_group wg;
         for (int i = 0; i < 2; ++i) wg.go([ch] { ch.close(); });
         wg.wait();
       },
       [] {
         auto ch = weft::make_chan<int>();
         weft::once closing;
         weft::wait_group wg;
         for (int i = 0; i < 2; ++i) wg.go([ch, &closing] { closing.call([ch] { ch.close(); }); });
         wg.wait();
       }},
      {"close of nil channel", "panic: close of nil channel", 2,
       [] {
         weft::chan<int> never_made;
         weft::wait_group wg;
         wg.go([never_made] { never_made.close(); });
         wg.wait();
       },
       [] {
         auto made = weft::make_chan<int>();
         weft::wait_group wg;
         wg.go([made] { made.close(); });
         wg.wait();
       }},
      {"negative WaitGroup counter", "panic: sync: negative WaitGroup counter", 0,
       // add(1), but two goroutines call done().
       [] {
         weft::wait_group wg;
         auto finished = weft::make_chan<weft::unit>(2);
         wg.add(1);
         for (int i = 0; i < 2; ++i)
           weft::go([&wg, finished] {
             wg.done();
             finished.send({});
           });
         finished.recv();
         finished.recv();
       },
       [] {
         weft::wait_group wg;
         wg.add(2);
         for (int i = 0; i < 2; ++i) weft::go([&wg] { wg.done(); });
         wg.wait();
       }},
      {"unlock of unlocked mutex", "panic: sync: unlock of unlocked mutex", 2,
       [] {
         weft::mutex mu;
         weft::wait_group wg;
         wg.go([&mu] {
           mu.lock();
           mu.unlock();
           mu.unlock();
         });
         wg.wait();
       },
       [] {
         weft::mutex mu;
         weft::wait_group wg;
         wg.go([&mu] {
           mu.lock();
           mu.unlock();
         });
         wg.wait();
       }},
      {"RUnlock of unlocked RWMutex", "panic: sync: RUnlock of unlocked RWMutex", 2,
       [] {
         weft::rw_mutex rw;
         weft::wait_group wg;
         wg.go([&rw] { rw.unlock_shared(); });
         wg.wait();
       },
       [] {
         weft::rw_mutex rw;
         weft::wait_group wg;
         wg.go([&rw] {
           rw.lock_shared();
           rw.unlock_shared();
         });
         wg.wait();
       }},
      {"Unlock of unlocked RWMutex", "panic: sync: Unlock of unlocked RWMutex", 2,
       [] {
         weft::rw_mutex rw;
         weft::wait_group wg;
         wg.go([&rw] { rw.unlock(); });
         wg.wait();
       },
       [] {
         weft::rw_mutex rw;
         weft::wait_group wg;
         wg.go([&rw] {
           rw.lock();
           rw.unlock();
         });
         wg.wait();
       }},
  };
}

}  // namespace

TEST_P(MisuseDetector, EachMisuseIsAPanicWithGosMessageAndReplays) {
  for (const misuse& m : programs()) {
    SCOPED_TRACE(m.name);
    auto o = opts(500);
    const report r = explore(o, m.bad);
    ASSERT_EQ(r.kind, kind::panic) << r;
    EXPECT_EQ(r.message, m.message) << r;
    ASSERT_EQ(r.goroutines.size(), 1u) << r;
    if (m.who != 0) {
      EXPECT_EQ(r.goroutines[0].id, m.who) << r;
    } else {
      EXPECT_GE(r.goroutines[0].id, 2u) << r;  // one of the goroutines, not main
    }
    EXPECT_EQ(r.goroutines[0].parent, 1u);
    EXPECT_TRUE(ends_with(r.goroutines[0].created_at.file_name(), "detect_misuse_test.cpp")) << r;
    const auto* means = find_section(r, "what this panic means");
    ASSERT_NE(means, nullptr) << r;
    EXPECT_FALSE(means->lines.empty());
    EXPECT_FALSE(r.schedule.empty());
    expect_replays(r, m.bad, o);
  }
}

TEST_P(MisuseDetector, EachCorrectTwinIsClean) {
  for (const misuse& m : programs()) {
    const report r = explore(opts(explore_test::scaled(300)), m.good);
    EXPECT_TRUE(r.ok()) << m.name << " under " << strategy_name() << ":\n" << r;
  }
}

TEST_P(MisuseDetector, SendOnClosedDependsOnTheSchedule) {
  // Some schedules send before the close; the report is one that does not.
  auto o = opts(200);
  o.stop_on_first_failure = false;
  o.shrink = false;
  const report r = explore(o, programs()[0].bad);
  ASSERT_EQ(r.kind, kind::panic) << r;
  EXPECT_GT(r.failures, 0u);
  EXPECT_LT(r.failures, r.iterations);
}

TEST_P(MisuseDetector, APanicCaughtByTheProgramIsNoFailure) {
  // panic_error is an exception: a program may recover from it, like Go's recover().
  auto body = [] {
    auto ch = weft::make_chan<int>();
    ch.close();
    bool recovered = false;
    try {
      ch.close();
    } catch (const weft::panic_error& e) {
      recovered = std::string(e.what()) == "close of closed channel";
    }
    WEFT_ASSERT(recovered);
  };
  const report r = explore(opts(10), body);
  EXPECT_TRUE(r.ok()) << r;
}

INSTANTIATE_TEST_SUITE_P(Strategies, MisuseDetector, ::testing::ValuesIn(every_strategy()), param_name);
