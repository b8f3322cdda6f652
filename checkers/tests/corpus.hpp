// Small known-bad programs and their fixed twins (STYLE.md 8): each bad one
// fails one way, and its twin must pass under every strategy. Each records
// the lines of its interesting sites so tests can check reports against them.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <weft/check.hpp>
#include <weft/weft.hpp>

namespace corpus {

struct sites {
  int a = 0, b = 0, c = 0;  // program-specific lines
};
inline sites lines;  // written by the programs (single explorer thread)

struct program {
  std::string name;
  weft::check::kind expected;  // ok for a twin
  std::function<void()> body;
};

// Lock-order inversion that deadlocks: A takes m1 then m2, B m2 then m1.
// (Explicit lock()/unlock(): std::lock_guard calls lock() from inside the
// standard library, so the blocking site would point there.)
inline void deadlock_lock_order(bool fixed) {
  weft::mutex m1, m2;
  weft::wait_group wg;
  wg.go([&] {
    m1.lock();
    lines.a = __LINE__ + 1;
    m2.lock();
    m2.unlock();
    m1.unlock();
  });
  wg.go([&, fixed] {
    weft::mutex& first = fixed ? m1 : m2;
    weft::mutex& second = fixed ? m2 : m1;
    first.lock();
    lines.b = __LINE__ + 1;
    second.lock();
    second.unlock();
    first.unlock();
  });
  lines.c = __LINE__ + 1;
  wg.wait();
}

// A receive nobody sends to.
inline void deadlock_chan(bool fixed) {
  auto ch = weft::make_chan<int>();
  weft::go([=] {
    if (fixed) ch.send(1);
  });
  lines.a = __LINE__ + 1;
  ch.recv();
}

// A worker left blocked when main returns.
inline void leak(bool fixed) {
  auto jobs = weft::make_chan<int>();
  auto results = weft::make_chan<int>(1);
  weft::go([=] {
    for (;;) {
      lines.a = __LINE__ + 1;
      auto j = jobs.recv();
      if (!j) return;
      results.send(*j * 2);
    }
  });
  jobs.send(21);
  results.recv();
  if (fixed) jobs.close();
}

// Send on a closed channel: depends on the order of close and send.
inline void panic_send_on_closed(bool fixed) {
  auto ch = weft::make_chan<int>(1);
  auto sent = weft::make_chan<weft::unit>();
  weft::go([=] {
    lines.a = __LINE__ + 1;
    ch.send(1);
    sent.send({});
  });
  if (fixed) sent.recv();
  ch.close();
  if (!fixed) sent.recv();
}

// An exception escaping a goroutine.
inline void panic_exception(bool fixed) {
  auto ch = weft::make_chan<int>(1);
  weft::go([=] {
    int v = weft::check::choose(2) == 1 && !fixed ? -1 : 1;
    if (v < 0) throw std::runtime_error("negative input");
    ch.send(v);
  });
  ch.recv();
}

// The lost update: two unsynchronised read-modify-writes, a data race (the
// twin locks). With the race detector off it fails its assertion instead.
inline void lost_update(bool fixed) {
  weft::check::shared<int> counter{0};
  weft::mutex mu;
  weft::wait_group wg;
  for (int i = 0; i < 2; ++i)
    wg.go([&] {
      if (fixed) mu.lock();
      counter += 1;
      if (fixed) mu.unlock();
    });
  wg.wait();
  lines.a = __LINE__ + 1;
  WEFT_ASSERT(counter.load() == 2);
}

// Check-then-act without a data race: every access is under the lock, but
// the check and the act are two critical sections, so both withdrawals can
// pass the check (the twin holds the lock across both).
inline void overdraw(bool fixed) {
  weft::check::shared<int> balance{10};
  weft::mutex mu;
  weft::wait_group wg;
  for (int amount : {6, 5})
    wg.go([&, amount] {
      if (fixed) {
        mu.lock();
        if (balance.load() >= amount) balance.store(balance.load() - amount);
        mu.unlock();
        return;
      }
      mu.lock();
      const bool enough = balance.load() >= amount;
      mu.unlock();
      if (!enough) return;
      mu.lock();
      balance.store(balance.load() - amount);
      mu.unlock();
    });
  wg.wait();
  lines.a = __LINE__ + 1;
  WEFT_ASSERT(balance.load() >= 0);
}

// A spin wait for a flag nobody sets (the twin sets it).
inline void spin_forever(bool fixed) {
  weft::atomic<bool> flag{false};
  weft::wait_group wg;
  wg.go([&] {
    if (fixed) flag.store(true);
  });
  while (!flag.load()) weft::yield();
  wg.wait();
}

inline std::vector<program> bad_programs() {
  using weft::check::kind;
  return {
      {"deadlock_lock_order", kind::deadlock, [] { deadlock_lock_order(false); }},
      {"deadlock_chan", kind::deadlock, [] { deadlock_chan(false); }},
      {"leak", kind::leak, [] { leak(false); }},
      {"panic_send_on_closed", kind::panic, [] { panic_send_on_closed(false); }},
      {"panic_exception", kind::panic, [] { panic_exception(false); }},
      {"lost_update", kind::race, [] { lost_update(false); }},
      {"overdraw", kind::assertion, [] { overdraw(false); }},
      {"spin_forever", kind::step_bound, [] { spin_forever(false); }},
  };
}

inline std::vector<program> good_twins() {
  using weft::check::kind;
  return {
      {"deadlock_lock_order", kind::ok, [] { deadlock_lock_order(true); }},
      {"deadlock_chan", kind::ok, [] { deadlock_chan(true); }},
      {"leak", kind::ok, [] { leak(true); }},
      {"panic_send_on_closed", kind::ok, [] { panic_send_on_closed(true); }},
      {"panic_exception", kind::ok, [] { panic_exception(true); }},
      {"lost_update", kind::ok, [] { lost_update(true); }},
      {"overdraw", kind::ok, [] { overdraw(true); }},
      {"spin_forever", kind::ok, [] { spin_forever(true); }},
  };
}

}  // namespace corpus
