// Stress: the runtime's racy corners, many times over, at 1, 2, 4 and 8
// workers. Each test checks a conservation law, so a lost wake-up, a double
// delivery or a stale select waiter shows up as a wrong count (or a hang,
// which ctest's timeout catches).
#include <gtest/gtest.h>

#include <weft/weft.hpp>

#include <atomic>
#include <random>
#include <vector>

#include "stress.hpp"

using namespace std::chrono_literals;
using weft_stress::scale;

// Every stress file's TEST_Ps, at each worker count.
INSTANTIATE_TEST_SUITE_P(Procs, Stress, ::testing::Values(1u, 2u, 4u, 8u),
                         [](const auto& info) { return "procs" + std::to_string(info.param); });

TEST_P(Stress, SelectStormDeliversEveryValueOnce) {
  // Senders and selecting receivers over 4 channels of mixed capacity; every
  // value sent is received exactly once.
  const int senders = 4 * scale, receivers = 4 * scale, per = 2000;
  long total = weft::run({.procs = GetParam()}, [&] {
    std::vector<weft::chan<long>> chans{weft::make_chan<long>(), weft::make_chan<long>(1),
                                        weft::make_chan<long>(8), weft::make_chan<long>()};
    auto quit = weft::make_chan<weft::unit>();
    auto sums = weft::make_chan<long>(receivers);
    weft::wait_group wg;
    for (int s = 0; s < senders; ++s) {
      wg.add(1);
      weft::go([&, s] {
        std::mt19937 rng(s);
        for (int i = 1; i <= per; ++i) {
          auto& ch = chans[rng() % chans.size()];
          // Half plain sends, half select sends racing a timeout.
          if (i % 2)
            ch.send(i);
          else
            while (weft::select(weft::on_send(ch, long(i)), weft::on_recv(weft::after(50us))) != 0) {}
        }
        wg.done();
      });
    }
    for (int r = 0; r < receivers; ++r)
      weft::go([&] {
        long sum = 0;
        for (bool stop = false; !stop;) {
          auto take = [&](std::optional<long> v) { sum += *v; };
          weft::select(weft::on_recv(chans[0], take), weft::on_recv(chans[1], take), weft::on_recv(chans[2], take),
                       weft::on_recv(chans[3], take), weft::on_recv(quit, [&](auto) { stop = true; }));
        }
        // Drain what is left once senders are done.
        for (auto& ch : chans)
          while (auto v = ch.try_recv()) sum += *v;
        sums.send(sum);
      });
    wg.wait();
    quit.close();
    long t = 0;
    for (int r = 0; r < receivers; ++r) t += *sums.recv();
    return static_cast<int>(t % 1000000007);
  });
  const long expected = (long(senders) * per * (per + 1) / 2) % 1000000007;
  EXPECT_EQ(total, expected);
}

TEST_P(Stress, CloseRacesBlockedSendersReceiversAndSelects) {
  // Close a channel while goroutines are blocked on it in every way; each must
  // come back exactly once with the right outcome.
  for (int round = 0; round < 50 * scale; ++round) {
    std::atomic<int> recv_closed{0}, send_panics{0}, select_outcomes{0};
    const int each = 8;
    weft::run({.procs = GetParam()}, [&] {
      auto ch = weft::make_chan<int>(round % 3);
      weft::wait_group wg;
      for (int i = 0; i < each; ++i) {
        wg.add(3);
        weft::go([&] {
          while (ch.recv()) {}
          recv_closed++;
          wg.done();
        });
        weft::go([&] {
          try {
            for (;;) ch.send(1);
          } catch (const weft::panic_error&) {
            send_panics++;
          }
          wg.done();
        });
        weft::go([&] {
          try {
            for (bool done = false; !done;)
              weft::select(weft::on_recv(ch, [&](std::optional<int> v) { done = !v; }), weft::on_send(ch, 2));
          } catch (const weft::panic_error&) {
          }
          select_outcomes++;
          wg.done();
        });
      }
      weft::sleep(200us);
      ch.close();
      wg.wait();
    });
    ASSERT_EQ(recv_closed.load(), each) << "round " << round;
    ASSERT_EQ(send_panics.load(), each) << "round " << round;
    ASSERT_EQ(select_outcomes.load(), each) << "round " << round;
  }
}

TEST_P(Stress, SpawnTreesAndYields) {
  // A tree of goroutines that spawn children, yield and report up.
  const int depth = WEFT_TSAN ? 7 : 11;
  long leaves = weft::run({.procs = GetParam()}, [&] {
    struct node {
      static long grow(int d) {
        if (d == 0) return 1;
        auto out = weft::make_chan<long>(2);
        for (int c = 0; c < 2; ++c) weft::go([=] { out.send(grow(d - 1)); });
        weft::yield();
        return *out.recv() + *out.recv();
      }
    };
    return static_cast<int>(node::grow(depth));
  });
  EXPECT_EQ(leaves, 1L << depth);
}

TEST_P(Stress, TimersStoppedResetAndFiringConcurrently) {
  // Many goroutines arm, stop and reset short timers while others fire: each
  // stop that reports success means the timer never delivers that value.
  const int goroutines = 16 * scale, rounds = 200;
  std::atomic<long> late_deliveries{0};
  weft::run({.procs = GetParam()}, [&] {
    weft::wait_group wg;
    for (int g = 0; g < goroutines; ++g) {
      wg.add(1);
      weft::go([&, g] {
        std::mt19937 rng(g);
        for (int r = 0; r < rounds; ++r) {
          auto t = weft::new_timer(std::chrono::microseconds(rng() % 200));
          if (rng() % 2) weft::sleep(std::chrono::microseconds(rng() % 200));
          if (t.stop()) {
            // Stopped before firing: nothing may arrive, ever.
            if (weft::select(weft::on_recv(t.c()), weft::on_recv(weft::after(300us))) == 0) late_deliveries++;
          } else {
            t.c().recv();  // it fired: the value is there (or about to be)
            if (t.reset(std::chrono::microseconds(rng() % 100))) late_deliveries++;  // was not active
            t.c().recv();
          }
        }
        wg.done();
      });
    }
    wg.wait();
  });
  EXPECT_EQ(late_deliveries.load(), 0);
}

TEST_P(Stress, PingPongPairsAcrossWorkers) {
  const int pairs = 8 * scale, rounds = 5000;
  long total = weft::run({.procs = GetParam()}, [&] {
    auto results = weft::make_chan<long>(pairs);
    for (int p = 0; p < pairs; ++p)
      weft::go([=] {
        auto a = weft::make_chan<int>(), b = weft::make_chan<int>();
        weft::go([=] {
          for (int v : a) b.send(v + 1);
          b.close();
        });
        long s = 0;
        for (int i = 0; i < rounds; ++i) {
          a.send(i);
          s += *b.recv();
        }
        a.close();
        b.recv();
        results.send(s);
      });
    long t = 0;
    for (int p = 0; p < pairs; ++p) t += *results.recv();
    return static_cast<int>(t % 1000000007);
  });
  EXPECT_EQ(total, (long(pairs) * (long(rounds) * (rounds + 1) / 2)) % 1000000007);
}

namespace {
// A value that counts its live copies and can tell whether it was torn or
// freed under a reader (the destructor scribbles over it).
struct stamped {
  static inline std::atomic<long> live{0};
  long a = 0, b = 0;
  explicit stamped(long v) : a(v), b(~v) { ++live; }
  stamped(const stamped& o) : a(o.a), b(o.b) { ++live; }
  ~stamped() {
    a = b = 0;
    --live;
  }
  bool whole() const { return b == ~a; }
};
}  // namespace

TEST_P(Stress, AtomicValueSnapshotsCrossWorkersAndOutliveStores) {
  // Readers take snapshots (load: read in place, or counted when their slot
  // is held) and borrows while a writer stores; some snapshots are kept
  // across yields, some handed to dropper goroutines (as shared_ptrs, as
  // themselves, or copied), so holds end on other workers than the ones
  // that took them. Every value read is whole
  // and not older than the last one that reader saw, and once the workers
  // are gone and a store has scanned, every value has been freed.
  const long before = stamped::live.load();
  const int readers = 4 * scale, reads = 20000;
  long bad = weft::run({.procs = GetParam()}, [&] {
    weft::atomic_value<stamped> v{stamped{0}};
    std::atomic<bool> stop{false};
    std::atomic<long> torn{0};
    auto handoff = weft::make_chan<std::shared_ptr<const stamped>>(16);
    auto snaps = weft::make_chan<weft::atomic_value<stamped>::snapshot>(16);
    weft::wait_group writer, dropper, wg;
    writer.go([&] {
      for (long i = 1; !stop.load(std::memory_order_relaxed); ++i) {
        v.store(stamped{i});
        if (i % 8 == 0) weft::yield();
      }
    });
    auto drop_all = [&](auto ch) {
      for (auto s : ch) {
        weft::yield();  // often resumes on another worker
        if (!s->whole()) torn++;
      }
    };
    dropper.go([&] { drop_all(handoff); });
    dropper.go([&] { drop_all(snaps); });
    for (int r = 0; r < readers; ++r)
      wg.go([&, r] {
        std::mt19937 rng(r);
        long last = 0;
        std::vector<std::shared_ptr<const stamped>> kept;
        for (int n = 0; n < reads; ++n) {
          auto s = v.load();
          if (!s->whole() || s->a < last) torn++;
          last = s->a;
          switch (rng() % 8) {
            case 0: kept.push_back(s); break;              // outlives later stores
            case 1: handoff.send(std::move(s)); break;     // dropped elsewhere, as a shared_ptr
            case 4: snaps.send(std::move(s)); break;       // the hold itself, dropped elsewhere
            case 5: snaps.send(s); break;                  // a copy, dropped elsewhere
            case 2: {
              auto b = v.borrow();                         // a borrow beside the snapshot
              if (!b->whole() || b->a < last) torn++;
              weft::yield();
              if (!b->whole()) torn++;
              break;
            }
            case 3: weft::yield(); break;                  // held across a park
            default: break;
          }
          if (kept.size() > 8) kept.erase(kept.begin());
        }
        for (auto& s : kept)
          if (!s->whole()) torn++;
      });
    wg.wait();
    handoff.close();
    snaps.close();
    dropper.wait();
    stop = true;
    writer.wait();
    return torn.load();
  });
  EXPECT_EQ(bad, 0);
  // The workers have exited (their idle names went with them); a store's
  // scan frees whatever was waiting in the retired list.
  weft::atomic_value<stamped> last{stamped{-1}};
  last.store(stamped{-2});
  last.store(stamped{-3});
  EXPECT_EQ(stamped::live.load() - before, 1);
}
