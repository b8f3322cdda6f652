// The race detector (FastTrack vector clocks over Go's memory model), under
// every strategy: racy programs are reported with both accesses (goroutine,
// site, read or write), and a correctly synchronised twin for each
// happens-before edge weft's primitives state is never reported (zero false
// positives over hundreds of schedules).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "detect_helpers.hpp"

using namespace std::chrono_literals;
using namespace detect_test;

namespace {

class RaceDetector : public strategy_test {};

// Two goroutines write x with nothing between them.
void unordered_writes() {
  weft::check::shared<int> x{0};
  weft::wait_group wg;
  wg.go([&] {
    lines.a = __LINE__ + 1;
    x.store(1);
  });
  wg.go([&] {
    lines.b = __LINE__ + 1;
    x.store(2);
  });
  wg.wait();
}

// The same with raw memory, described by WEFT_WRITE / WEFT_READ: goroutine 2
// writes the buffer, main reads it without waiting for it. (The accesses
// themselves are relaxed atomics, so that a ThreadSanitizer build, which sees
// goroutines as threads, does not report the race this test wants weft to.)
void raw_write_then_read() {
  int buf[4] = {0, 0, 0, 0};
  auto done = weft::make_chan<weft::unit>();
  weft::go([&buf, done] {
    lines.a = __LINE__ + 1;
    WEFT_WRITE(&buf[1], sizeof(int));
    std::atomic_ref<int>(buf[1]).store(7, std::memory_order_relaxed);
    done.send({});
  });
  lines.b = __LINE__ + 1;
  WEFT_READ(&buf[1], sizeof(int));
  (void)std::atomic_ref<int>(buf[1]).load(std::memory_order_relaxed);
  done.recv();
}

}  // namespace

TEST_P(RaceDetector, UnorderedWritesToASharedAreARaceNamingBothAccesses) {
  auto body = unordered_writes;
  auto o = opts(500);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::race) << r;
  ASSERT_EQ(r.accesses.size(), 2u) << r;
  const auto& e = r.accesses[0];
  const auto& l = r.accesses[1];
  // Goroutines 2 and 3 (main is 1), in either order; both writes.
  EXPECT_NE(e.goroutine, l.goroutine);
  EXPECT_TRUE((e.goroutine == 2 && l.goroutine == 3) || (e.goroutine == 3 && l.goroutine == 2)) << r;
  EXPECT_TRUE(e.write);
  EXPECT_TRUE(l.write);
  EXPECT_EQ(e.object, "var#1");
  EXPECT_EQ(l.object, "var#1");
  EXPECT_EQ(e.size, sizeof(int));
  EXPECT_LT(e.step, l.step);
  const unsigned line_of_2 = line(lines.a), line_of_3 = line(lines.b);
  EXPECT_EQ(e.site.line(), e.goroutine == 2 ? line_of_2 : line_of_3);
  EXPECT_EQ(l.site.line(), l.goroutine == 2 ? line_of_2 : line_of_3);
  EXPECT_TRUE(ends_with(e.site.file_name(), "detect_race_test.cpp"));
  // The message and the evidence say the same, with sites.
  const std::string site_e = std::string(e.site.file_name()) + ":" + std::to_string(e.site.line());
  const std::string site_l = std::string(l.site.file_name()) + ":" + std::to_string(l.site.line());
  EXPECT_EQ(r.message, "data race on var#1: goroutine " + std::to_string(e.goroutine) + " wrote it at " + site_e +
                           ", then goroutine " + std::to_string(l.goroutine) + " wrote it at " + site_l +
                           ", and nothing orders the two")
      << r;
  const std::string acc = section_text(r, "the two accesses");
  EXPECT_TRUE(contains(acc, "goroutine " + std::to_string(e.goroutine) + " wrote var#1 (4 bytes) at " + site_e)) << acc;
  EXPECT_TRUE(contains(acc, "goroutine " + std::to_string(l.goroutine) + " wrote var#1 (4 bytes) at " + site_l)) << acc;
  // The goroutines involved are the two writers; the earlier one may have
  // finished already, and is listed as such, with where it was created.
  ASSERT_EQ(r.goroutines.size(), 2u) << r;
  for (std::uint64_t id : {2u, 3u}) {
    const auto* g = find_goroutine(r, id);
    ASSERT_NE(g, nullptr) << r;
    EXPECT_EQ(g->parent, 1u);
    EXPECT_TRUE(ends_with(g->created_at.file_name(), "detect_race_test.cpp"));
  }
  const auto* first = find_goroutine(r, e.goroutine);
  EXPECT_TRUE(first->state == "finished" || first->state == "runnable") << first->state;
  if (first->state == "finished") {
    EXPECT_TRUE(contains(r.text(), "goroutine " + std::to_string(e.goroutine) + " [finished]\n")) << r;
  }
  expect_replays(r, body, o);
}

TEST_P(RaceDetector, RawAnnotationsReportTheReadAndTheWrite) {
  auto body = raw_write_then_read;
  auto o = opts(500);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::race) << r;
  ASSERT_EQ(r.accesses.size(), 2u) << r;
  // One write by goroutine 2 at its WEFT_WRITE, one read by main at its WEFT_READ.
  const auto& w = r.accesses[0].write ? r.accesses[0] : r.accesses[1];
  const auto& rd = r.accesses[0].write ? r.accesses[1] : r.accesses[0];
  EXPECT_TRUE(w.write);
  EXPECT_FALSE(rd.write);
  EXPECT_EQ(w.goroutine, 2u);
  EXPECT_EQ(rd.goroutine, 1u);
  EXPECT_EQ(w.site.line(), line(lines.a));
  EXPECT_EQ(rd.site.line(), line(lines.b));
  EXPECT_EQ(w.size, sizeof(int));
  EXPECT_EQ(w.object, rd.object);
  EXPECT_TRUE(contains(r.message, "goroutine 2 wrote it at ")) << r.message;
  EXPECT_TRUE(contains(r.message, "goroutine 1 read it at ")) << r.message;
  expect_replays(r, body, o);
}

TEST_P(RaceDetector, DisjointBytesAndConcurrentReadsAreNoRace) {
  auto body = [] {
    int buf[2] = {0, 0};
    weft::check::shared<int> config{42};
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i)
      wg.go([&buf, &config, i] {
        WEFT_WRITE(&buf[i], sizeof(int));  // each its own element
        buf[i] = config.load();            // everybody only reads config
      });
    wg.wait();
    WEFT_READ(&buf[0], sizeof(buf));
  };
  const report r = explore(opts(400), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(RaceDetector, ReusedMemoryIsANewVariable) {
  // Two goroutines each make a variable on the heap, use it and free it; the
  // allocator hands the second the first one's memory. Different variables:
  // no race, although nothing orders the two goroutines.
  auto body = [] {
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i)
      wg.go([i] {
        auto v = std::make_unique<weft::check::shared<int>>(0);
        v->store(i);
        (void)v->load();
      });
    wg.wait();
  };
  const report r = explore(opts(300), body);
  EXPECT_TRUE(r.ok()) << r;
}

// --- One race-free twin per happens-before edge ------------------------------

namespace {

struct twin {
  const char* edge;
  std::function<void()> body;
};

std::vector<twin> synchronised_twins() {
  return {
      {"go statement -> the goroutine starts",
       [] {
         weft::check::shared<int> x{0};
         weft::wait_group wg;
         x.store(1);
         wg.go([&] { x.store(x.load() + 1); });
         wg.wait();
       }},
      {"unbuffered send -> the receive completes",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>();
         weft::go([&x, ch] {
           x.store(1);
           ch.send(0);
         });
         ch.recv();
         x.store(x.load() + 1);
       }},
      {"unbuffered receive -> the send completes",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>();
         weft::wait_group wg;
         wg.go([&x, ch] {
           ch.send(0);
           x.store(x.load() + 1);  // after main's write: main received before this send returned
         });
         x.store(1);
         ch.recv();
         wg.wait();
       }},
      {"buffered send -> the receive of that value completes",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>(3);
         weft::go([&x, ch] {
           x.store(1);
           ch.send(0);
         });
         ch.recv();
         x.store(x.load() + 1);
       }},
      {"buffered, capacity 1: the 1st receive -> the 2nd send completes",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>(1);
         weft::wait_group wg;
         ch.send(0);  // 1st send: fills the buffer
         wg.go([&x, ch] {
           x.store(1);
           ch.recv();  // 1st receive
         });
         ch.send(0);  // 2nd send (k + C = 1 + 1): completes after the 1st receive
         x.store(x.load() + 1);
         wg.wait();
       }},
      {"buffered, capacity 2: the 1st receive -> the 3rd send completes",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>(2);
         weft::wait_group wg;
         wg.go([&x, ch] {
           x.store(1);
           ch.recv();
         });
         ch.send(0);
         ch.send(0);
         ch.send(0);  // the 3rd: k + C = 1 + 2
         x.store(x.load() + 1);
         wg.wait();
       }},
      {"buffered, capacity 3: the 1st receive -> the 4th send completes",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>(3);
         weft::wait_group wg;
         wg.go([&x, ch] {
           x.store(1);
           ch.recv();
         });
         for (int i = 0; i < 4; ++i) ch.send(i);  // the 4th waits for room: k + C = 1 + 3
         x.store(x.load() + 1);
         wg.wait();
       }},
      {"a buffered channel of capacity 1 as a lock (semaphore)",
       [] {
         weft::check::shared<int> counter{0};
         auto sem = weft::make_chan<weft::unit>(1);
         weft::wait_group wg;
         for (int i = 0; i < 3; ++i)
           wg.go([&counter, sem] {
             sem.send({});  // acquire
             counter += 1;
             sem.recv();  // release
           });
         wg.wait();
         WEFT_ASSERT(counter.load() == 3);
       }},
      {"close -> a receive that returns because of the close",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>();
         weft::go([&x, ch] {
           x.store(1);
           ch.close();
         });
         auto v = ch.recv();
         WEFT_ASSERT(!v.has_value());
         x.store(x.load() + 1);
       }},
      {"close -> a range loop that ends because of the close (buffered)",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>(2);
         weft::go([&x, ch] {
           ch.send(1);
           x.store(1);
           ch.close();
         });
         for (int v : ch) (void)v;
         x.store(x.load() + 1);
       }},
      {"mutex: unlock -> the next lock",
       [] {
         weft::check::shared<int> x{0};
         weft::mutex mu;
         weft::wait_group wg;
         for (int i = 0; i < 3; ++i)
           wg.go([&] {
             mu.lock();
             x += 1;
             mu.unlock();
           });
         wg.wait();
         WEFT_ASSERT(x.load() == 3);
       }},
      {"rw_mutex: unlock -> a later read lock; read unlock -> a later lock",
       [] {
         weft::check::shared<int> x{0};
         weft::rw_mutex rw;
         weft::wait_group wg;
         for (int i = 0; i < 2; ++i)
           wg.go([&] {
             rw.lock_shared();
             (void)x.load();  // readers share
             rw.unlock_shared();
           });
         for (int i = 0; i < 2; ++i)
           wg.go([&] {
             rw.lock();
             x += 1;
             rw.unlock();
           });
         wg.wait();
       }},
      {"wait_group: done -> wait returns",
       [] {
         weft::check::shared<int> a{0}, b{0};
         weft::wait_group wg;
         wg.go([&] { a.store(1); });
         wg.go([&] { b.store(2); });
         wg.wait();
         a.store(a.load() + b.load());
       }},
      {"once: f's completion -> every call returns",
       [] {
         weft::check::shared<int> x{0};
         weft::once init;
         weft::wait_group wg;
         for (int i = 0; i < 3; ++i)
           wg.go([&] {
             init.call([&] { x.store(42); });
             WEFT_ASSERT(x.load() == 42);
           });
         wg.wait();
       }},
      {"cond: signal with the mutex",
       [] {
         weft::check::shared<int> x{0};
         weft::check::shared<bool> ready{false};
         weft::mutex mu;
         weft::cond c{mu};
         weft::wait_group wg;
         wg.go([&] {
           mu.lock();
           while (!ready.load()) c.wait();
           x.store(x.load() + 1);
           mu.unlock();
         });
         mu.lock();
         x.store(1);
         ready.store(true);
         c.signal();
         mu.unlock();
         wg.wait();
       }},
      {"cond: broadcast with the mutex",
       [] {
         weft::check::shared<int> x{0};
         weft::check::shared<bool> ready{false};
         weft::mutex mu;
         weft::cond c{mu};
         weft::wait_group wg;
         for (int i = 0; i < 2; ++i)
           wg.go([&] {
             mu.lock();
             while (!ready.load()) c.wait();
             x += 1;
             mu.unlock();
           });
         mu.lock();
         ready.store(true);
         c.broadcast();
         mu.unlock();
         wg.wait();
         WEFT_ASSERT(x.load() == 2);
       }},
      {"weft::atomic: a store -> the load that sees it",
       [] {
         weft::check::shared<int> x{0};
         weft::atomic<bool> flag{false};
         weft::go([&] {
           x.store(1);
           flag.store(true);
         });
         while (!flag.load()) weft::yield();
         x.store(x.load() + 1);
       }},
      {"context: cancel -> a receive from done()",
       [] {
         weft::check::shared<int> x{0};
         auto [ctx, cancel] = weft::with_cancel(weft::background());
         weft::go([&x, cancel = cancel] {
           x.store(1);
           cancel();
         });
         ctx.done().recv();
         x.store(x.load() + 1);
       }},
      {"select: a receive case -> like a receive",
       [] {
         weft::check::shared<int> x{0};
         auto a = weft::make_chan<int>();
         auto b = weft::make_chan<int>();
         weft::go([&x, a] {
           x.store(1);
           a.send(1);
         });
         weft::go([b] { b.send(2); });
         for (int i = 0; i < 2; ++i)
           weft::select(weft::on_recv(a, [&](std::optional<int>) { x.store(x.load() + 1); }),
                        weft::on_recv(b, [](std::optional<int>) {}));
       }},
      {"select: a send case -> the receive; the receive -> the send case completes",
       [] {
         weft::check::shared<int> x{0}, y{0};
         auto a = weft::make_chan<int>();
         auto never = weft::make_chan<int>();
         weft::wait_group wg;
         wg.go([&, a] {
           y.store(1);
           a.recv();
           x.store(x.load() + 1);  // main wrote x before its send case
         });
         x.store(1);
         weft::select(weft::on_send(a, 1), weft::on_recv(never));
         y.store(y.load() + 1);  // the receive completed before this send case returned
         wg.wait();
       }},
      {"select with default: a successful non-blocking receive",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>(1);
         weft::go([&x, ch] {
           x.store(1);
           ch.send(1);
         });
         for (bool got = false; !got;) {
           weft::select(weft::on_recv(ch, [&](std::optional<int>) { got = true; }), weft::on_default([] { weft::yield(); }));
         }
         x.store(x.load() + 1);
       }},
  };
}

}  // namespace

TEST_P(RaceDetector, EveryHappensBeforeEdgeHasARaceFreeTwin) {
  for (const twin& t : synchronised_twins()) {
    auto o = opts(explore_test::scaled(300));
    o.max_steps = 5000;
    const report r = explore(o, t.body);
    EXPECT_TRUE(r.ok()) << t.edge << " under " << strategy_name() << ":\n" << r;
    EXPECT_GT(r.iterations, 0u);
  }
}

// --- The racy siblings: each edge above, used where it does not reach ----------

namespace {

std::vector<twin> racy_siblings() {
  return {
      {"wait_group: a read before wait",
       [] {
         weft::check::shared<int> x{0};
         weft::wait_group wg;
         wg.go([&] { x.store(1); });
         (void)x.load();
         wg.wait();
       }},
      {"unbuffered channel: a write after the send, a read after the receive",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>();
         weft::wait_group wg;
         wg.go([&x, ch] {
           ch.send(0);
           x.store(1);
         });
         ch.recv();
         (void)x.load();
         wg.wait();
       }},
      {"close: a write after the close",
       [] {
         weft::check::shared<int> x{0};
         auto ch = weft::make_chan<int>();
         weft::wait_group wg;
         wg.go([&x, ch] {
           ch.close();
           x.store(1);
         });
         ch.recv();
         (void)x.load();
         wg.wait();
       }},
      {"once: a read that does not go through the once",
       [] {
         weft::check::shared<int> x{0};
         weft::once init;
         weft::wait_group wg;
         wg.go([&] { init.call([&] { x.store(42); }); });
         wg.go([&] { (void)x.load(); });
         wg.wait();
       }},
      {"rw_mutex: writes under read locks",
       [] {
         weft::check::shared<int> x{0};
         weft::rw_mutex rw;
         weft::wait_group wg;
         for (int i = 0; i < 2; ++i)
           wg.go([&] {
             rw.lock_shared();
             x += 1;  // readers do not exclude each other
             rw.unlock_shared();
           });
         wg.wait();
       }},
      {"two different mutexes",
       [] {
         weft::check::shared<int> x{0};
         weft::mutex m1, m2;
         weft::wait_group wg;
         wg.go([&] {
           m1.lock();
           x += 1;
           m1.unlock();
         });
         wg.go([&] {
           m2.lock();
           x += 1;
           m2.unlock();
         });
         wg.wait();
       }},
      {"weft::atomic: a store the load does not see",
       [] {
         weft::check::shared<int> x{0};
         weft::atomic<int> flag{0};
         weft::wait_group wg;
         wg.go([&] {
           x.store(1);
           flag.store(1);
         });
         (void)flag.load();  // whatever it sees, main reads x regardless
         (void)x.load();
         wg.wait();
       }},
      {"context: a write after the cancel",
       [] {
         weft::check::shared<int> x{0};
         auto [ctx, cancel] = weft::with_cancel(weft::background());
         weft::wait_group wg;
         wg.go([&x, cancel = cancel] {
           cancel();
           x.store(1);
         });
         ctx.done().recv();
         (void)x.load();
         wg.wait();
       }},
  };
}

}  // namespace

TEST_P(RaceDetector, EveryEdgeHasARacySiblingWhereItDoesNotReach) {
  for (const twin& t : racy_siblings()) {
    auto o = opts(1000);
    o.max_steps = 5000;
    const report r = explore(o, t.body);
    EXPECT_EQ(r.kind, kind::race) << t.edge << " under " << strategy_name() << ":\n" << r;
    EXPECT_EQ(r.accesses.size(), 2u) << t.edge;
  }
}

// --- Races the edges above do not cover ----------------------------------------

TEST_P(RaceDetector, BufferedChannelTheKPlusCMinus1thSendDoesNotSynchronise) {
  // Capacity 2: the 1st receive orders only the 3rd send; main relies on the
  // 2nd, which completes without waiting for anybody.
  auto body = [] {
    weft::check::shared<int> x{0};
    auto ch = weft::make_chan<int>(2);
    weft::wait_group wg;
    wg.go([&x, ch] {
      lines.a = __LINE__ + 1;
      x.store(1);
      ch.recv();  // the 1st receive
    });
    ch.send(0);
    ch.send(0);  // the 2nd send: k + C - 1
    lines.b = __LINE__ + 1;
    (void)x.load();
    wg.wait();
  };
  auto o = opts(500);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::race) << r;
  ASSERT_EQ(r.accesses.size(), 2u);
  std::vector<unsigned> sites{r.accesses[0].site.line(), r.accesses[1].site.line()};
  std::sort(sites.begin(), sites.end());
  std::vector<unsigned> want{line(lines.a), line(lines.b)};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(sites, want) << r;
  expect_replays(r, body, o);
}

TEST_P(RaceDetector, BufferedChannelOfCapacity2IsNoLock) {
  // The semaphore twin above with room for two: two goroutines can be inside
  // at once, and their increments race.
  auto body = [] {
    weft::check::shared<int> counter{0};
    auto sem = weft::make_chan<weft::unit>(2);
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i)
      wg.go([&counter, sem] {
        sem.send({});
        counter += 1;
        sem.recv();
      });
    wg.wait();
  };
  const report r = explore(opts(500), body);
  ASSERT_EQ(r.kind, kind::race) << r;
  ASSERT_EQ(r.accesses.size(), 2u);
  EXPECT_NE(r.accesses[0].goroutine, r.accesses[1].goroutine);
  EXPECT_TRUE(r.accesses[0].write || r.accesses[1].write);
}

TEST_P(RaceDetector, AReceiveParkedOnABufferedChannelDoesNotOrderTheSendThatFillsIt) {
  // Go: on a buffered channel only the k-th send -> k-th receive and the k-th
  // receive -> (k+C)-th send are edges. Here the receiver parks first (main
  // sleeps, so it runs first), and main's 1st send hands it the value: the
  // receive is the 1st, the send the 1st, and nothing orders the receiver's
  // write before main's read.
  auto body = [] {
    weft::check::shared<int> x{0};
    auto ch = weft::make_chan<int>(1);
    weft::wait_group wg;
    wg.go([&x, ch] {
      x.store(1);
      ch.recv();
    });
    weft::sleep(1ms);  // the receiver parks on the empty buffer meanwhile
    ch.send(0);
    (void)x.load();
    wg.wait();
  };
  const report r = explore(opts(200), body);
  EXPECT_EQ(r.kind, kind::race) << r;
}

TEST_P(RaceDetector, AReceiveFromAFullBufferIsNotOrderedAfterTheParkedSendersEarlierWrites) {
  // The sender parks on a full buffer after writing x; a receive takes the
  // oldest value and moves the parked sender's value into the buffer. That
  // receive is the 1st, the parked send the 2nd: only the receive -> send
  // edge exists (k-th receive before the (k+C)-th send completes), so the
  // receiver's read of x races with the sender's write.
  auto body = [] {
    weft::check::shared<int> x{0};
    auto ch = weft::make_chan<int>(1);
    weft::wait_group wg;
    wg.go([&x, ch] {
      ch.send(1);
      x.store(1);
      ch.send(2);  // parks: the buffer is full
    });
    weft::sleep(1ms);  // the sender parks meanwhile
    (void)ch.recv();
    (void)x.load();
    (void)ch.recv();
    wg.wait();
  };
  const report r = explore(opts(200), body);
  EXPECT_EQ(r.kind, kind::race) << r;
}

TEST_P(RaceDetector, AValueMovedIntoTheBufferForAParkedSenderCarriesItsWrites) {
  // The twin: what the parked sender wrote before its send is ordered before
  // the receive that takes that very value, though the value reached the
  // buffer through another goroutine's receive.
  auto body = [] {
    weft::check::shared<int> x{0};
    auto ch = weft::make_chan<int>(1);
    weft::wait_group wg;
    wg.go([&x, ch] {
      ch.send(1);
      x.store(1);
      ch.send(2);
    });
    wg.go([ch] { (void)ch.recv(); });  // takes 1, moves 2 into the buffer
    weft::sleep(1ms);
    wg.wait();
    WEFT_ASSERT(ch.recv() == std::optional<int>(2));
    (void)x.load();
  };
  const report r = explore(opts(300), body);
  EXPECT_TRUE(r.ok()) << r;
}

TEST_P(RaceDetector, ASpawnedGoroutineIsNotOrderedBeforeWhatFollowsTheGoStatement) {
  auto body = [] {
    weft::check::shared<int> x{0};
    weft::wait_group wg;
    wg.go([&] { x.store(1); });
    (void)x.load();  // the go statement orders main's earlier steps only
    wg.wait();
  };
  const report r = explore(opts(300), body);
  ASSERT_EQ(r.kind, kind::race) << r;
  EXPECT_EQ(r.goroutines.size(), 2u);
}

TEST_P(RaceDetector, RelaxedAtomicsDoNotSynchronise) {
  auto body = [] {
    weft::check::shared<int> x{0};
    weft::atomic<bool> flag{false};
    weft::wait_group wg;
    wg.go([&] {
      x.store(1);
      flag.store(true, std::memory_order_relaxed);
    });
    while (!flag.load(std::memory_order_relaxed)) weft::yield();
    (void)x.load();
    wg.wait();
  };
  const report r = explore(opts(300), body);
  EXPECT_EQ(r.kind, kind::race) << r;
}

TEST_P(RaceDetector, AMutexProtectsOnlyWhatIsUnderIt) {
  // One goroutine writes under the lock, the other without it.
  auto body = [] {
    weft::check::shared<int> x{0};
    weft::mutex mu;
    weft::wait_group wg;
    wg.go([&] {
      mu.lock();
      x += 1;
      mu.unlock();
    });
    wg.go([&] { x += 1; });
    wg.wait();
  };
  const report r = explore(opts(500), body);
  EXPECT_EQ(r.kind, kind::race) << r;
}

TEST_P(RaceDetector, ARaceOnlySomeSchedulesExposeIsFound) {
  // The goroutine writes x after it publishes the flag; main touches x only if
  // it sees the flag. A schedule where main looks first (every schedule without
  // a preemption) has no race; main must be preempted before its load for the
  // race to show.
  auto body = [] {
    weft::check::shared<int> x{0};
    weft::atomic<bool> flag{false};
    weft::wait_group wg;
    wg.go([&] {
      flag.store(true);
      lines.a = __LINE__ + 1;
      x.store(1);  // not covered by the flag: published before it
    });
    if (flag.load()) {
      lines.b = __LINE__ + 1;
      x.store(2);
    }
    wg.wait();
  };
  auto o = opts(1000);
  const report r = explore(o, body);
  ASSERT_EQ(r.kind, kind::race) << r;
  ASSERT_EQ(r.accesses.size(), 2u);
  std::vector<unsigned> sites{r.accesses[0].site.line(), r.accesses[1].site.line()};
  std::sort(sites.begin(), sites.end());
  std::vector<unsigned> want{line(lines.a), line(lines.b)};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(sites, want) << r;
  EXPECT_GE(r.preemptions, 1u) << r;
  expect_replays(r, body, o);

  // And it is a matter of the schedule: many schedules pass.
  auto keep_going = opts(200);
  keep_going.stop_on_first_failure = false;
  keep_going.shrink = false;
  const report all = explore(keep_going, body);
  EXPECT_EQ(all.kind, kind::race);
  EXPECT_GT(all.failures, 0u);
  EXPECT_LT(all.failures, all.iterations) << "every schedule failed: the race is not schedule-dependent";
}

TEST_P(RaceDetector, WithTheDetectorOffARaceGoesUnreported) {
  auto body = unordered_writes;
  auto o = opts(100);
  o.race.enabled = false;
  const report r = explore(o, body);
  EXPECT_TRUE(r.ok()) << r;
}

INSTANTIATE_TEST_SUITE_P(Strategies, RaceDetector, ::testing::ValuesIn(every_strategy()), param_name);
