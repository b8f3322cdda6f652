// Channels and select against models, over random operation sequences
// (RapidCheck shrinks any counterexample to a minimal sequence).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <weft/weft.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace {

// One goroutine's view of a buffered channel is a bounded FIFO that can be
// closed: try_send/try_recv/len/cap/close must agree with a std::deque model
// at every step, including the panics.
enum class kind { try_send, try_recv, len, close };
struct step {
  kind k;
  int value;
};

}  // namespace

namespace rc {
template <>
struct Arbitrary<step> {
  static Gen<step> arbitrary() {
    return gen::build<step>(gen::set(&step::k, gen::weightedElement<kind>({{5, kind::try_send},
                                                                         {5, kind::try_recv},
                                                                         {2, kind::len},
                                                                         {1, kind::close}})),
                            gen::set(&step::value, gen::inRange(-1000, 1000)));
  }
};
}  // namespace rc

RC_GTEST_PROP(ChanModel, BufferedChannelIsABoundedClosableFifo, (const std::vector<step>& steps)) {
  const auto capacity = *rc::gen::inRange<std::size_t>(0, 6);
  std::string failure;
  weft::run({.procs = 1}, [&] {
    auto ch = weft::make_chan<int>(capacity);
    std::deque<int> model;
    bool closed = false;
    for (std::size_t i = 0; i < steps.size() && failure.empty(); ++i) {
      const step& s = steps[i];
      auto fail = [&](const std::string& what) { failure = "step " + std::to_string(i) + ": " + what; };
      switch (s.k) {
        case kind::try_send: {
          bool panicked = false, sent = false;
          try {
            sent = ch.try_send(s.value);
          } catch (const weft::panic_error& e) {
            panicked = std::string(e.what()) == "send on closed channel";
          }
          if (closed) {
            if (!panicked) fail("try_send on a closed channel did not panic");
          } else if (sent != (model.size() < capacity)) {
            fail("try_send returned " + std::to_string(sent) + " with " + std::to_string(model.size()) + "/" +
                 std::to_string(capacity) + " buffered");
          } else if (sent) {
            model.push_back(s.value);
          }
          break;
        }
        case kind::try_recv: {
          auto v = ch.try_recv();
          if (model.empty()) {
            if (v) fail("try_recv invented a value");
          } else if (!v || *v != model.front()) {
            fail("try_recv lost FIFO order");
          } else {
            model.pop_front();
          }
          break;
        }
        case kind::len:
          if (ch.len() != model.size() || ch.cap() != capacity) fail("len/cap disagree with the model");
          break;
        case kind::close: {
          bool panicked = false;
          try {
            ch.close();
          } catch (const weft::panic_error& e) {
            panicked = std::string(e.what()) == "close of closed channel";
          }
          if (closed != panicked) fail("close panicked iff already closed: violated");
          closed = true;
          break;
        }
      }
    }
    // Once closed, receives drain what is left and then report closed.
    if (failure.empty() && closed) {
      while (!model.empty()) {
        auto v = ch.recv();
        if (!v || *v != model.front()) failure = "draining a closed channel lost values";
        model.pop_front();
      }
      if (failure.empty() && ch.recv2().ok) failure = "recv2 after drain reported ok";
    }
  });
  RC_ASSERT(failure.empty());
}

RC_GTEST_PROP(ChanModel, ConcurrentSendersKeepEachOnesOrderAndLoseNothing,
              (const std::vector<std::vector<int>>& per_sender)) {
  RC_PRE(per_sender.size() <= 6);
  const auto capacity = *rc::gen::inRange<std::size_t>(0, 4);
  const auto procs = *rc::gen::inRange(1u, 4u);
  std::vector<std::vector<int>> received(per_sender.size());
  weft::run({.procs = procs}, [&] {
    struct item {
      std::size_t sender;
      int value;
    };
    auto ch = weft::make_chan<item>(capacity);
    weft::wait_group wg;
    for (std::size_t s = 0; s < per_sender.size(); ++s) {
      wg.add(1);
      weft::go([&, s] {
        for (int v : per_sender[s]) ch.send({s, v});
        wg.done();
      });
    }
    weft::go([&] {
      wg.wait();
      ch.close();
    });
    for (item it : ch) received[it.sender].push_back(it.value);
  });
  // One receiver: each sender's values arrive complete and in its order.
  RC_ASSERT(received == per_sender);
}

RC_GTEST_PROP(SelectModel, ChoosesOnlyReadyCasesAndEveryReadyCaseCanWin, ()) {
  // Up to 5 receive cases, each on a nil, empty, holding or closed channel.
  const auto states = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(1, 6), rc::gen::inRange(0, 4));
  const bool with_default = *rc::gen::arbitrary<bool>();
  std::map<std::size_t, int> wins;
  bool ok = true;
  weft::run({.procs = 1}, [&] {
    for (int round = 0; round < 200 && ok; ++round) {
      std::vector<weft::chan<int>> chans(states.size());
      for (std::size_t i = 0; i < states.size(); ++i) {
        if (states[i] == 0) continue;  // nil
        chans[i] = weft::make_chan<int>(1);
        if (states[i] == 2) chans[i].send(1);
        if (states[i] == 3) chans[i].close();
      }
      bool any_ready = std::any_of(states.begin(), states.end(), [](int s) { return s >= 2; });
      if (!any_ready && !with_default) break;  // it would block forever
      // select over a runtime-sized set, case by case: build with a fixed arity.
      std::size_t chosen = 0;
      auto rc = [&](std::size_t i) { return weft::on_recv(i < chans.size() ? chans[i] : weft::chan<int>{}); };
      if (with_default)
        chosen = weft::select(rc(0), rc(1), rc(2), rc(3), rc(4), weft::on_default());
      else
        chosen = weft::select(rc(0), rc(1), rc(2), rc(3), rc(4));
      if (chosen == 5) {
        if (any_ready) ok = false;  // default despite a ready case
      } else if (chosen >= states.size() || states[chosen] < 2) {
        ok = false;  // chose a case that was not ready
      } else {
        ++wins[chosen];
      }
    }
  });
  RC_ASSERT(ok);
  std::size_t ready = 0;
  for (int s : states) ready += s >= 2;
  if (ready > 0) RC_ASSERT(wins.size() == ready);  // 200 fair rounds: every ready case wins some
}

RC_GTEST_PROP(TimerModel, TimersNeverFireEarlyAndFireInDeadlineOrder, (const std::vector<unsigned char>& delays)) {
  RC_PRE(!delays.empty() && delays.size() <= 12);
  // A timer armed with delay d between instants `before` and `after` has its
  // deadline somewhere in [before + d, after + d].
  struct fired {
    weft::time_point earliest, latest, at;
  };
  std::vector<fired> result(delays.size());
  weft::run({.procs = 2}, [&] {
    weft::wait_group wg;
    for (std::size_t i = 0; i < delays.size(); ++i) {
      wg.add(1);
      weft::go([&, i] {
        const auto d = std::chrono::microseconds(200 * (delays[i] % 32));
        const auto before = weft::now();
        auto t = weft::new_timer(d);
        const auto after = weft::now();
        auto at = t.c().recv();  // the instant the timer fired
        result[i] = {before + d, after + d, *at};
        wg.done();
      });
    }
    wg.wait();
  });
  for (auto& f : result) RC_ASSERT(f.at >= f.earliest);
  // A timer that fired in an earlier batch cannot have had a later deadline.
  for (auto& a : result)
    for (auto& b : result)
      if (a.at < b.at) RC_ASSERT(a.earliest <= b.latest);
}
