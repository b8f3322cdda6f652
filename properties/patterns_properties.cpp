// weft::patterns against simple models, over random inputs and 1-4 procs
// (RapidCheck shrinks any counterexample). Each property also checks that
// closing done leaves no goroutine behind.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <weft/weft.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace wp = weft::patterns;

namespace {

using sig_chan = weft::recv_chan<weft::unit>;

unsigned any_procs() { return *rc::gen::inRange(1u, 5u); }

// Goroutines that saw done closed may take a moment to return.
bool goroutines_back_to(std::size_t before) {
  for (int i = 0; i < 5000 && weft::num_goroutine() > before; ++i) weft::sleep(1ms);
  return weft::num_goroutine() == before;
}

template <class T>
std::vector<T> drain(const weft::recv_chan<T>& c) {
  std::vector<T> v;
  for (auto&& x : c) v.push_back(std::move(x));
  return v;
}

bool closed_now(const sig_chan& c) {
  bool closed = false;
  weft::select(weft::on_recv(c, [&](std::optional<weft::unit> v) { closed = !v; }), weft::on_default());
  return closed;
}

}  // namespace

RC_GTEST_PROP(PatternsModel, TeeDeliversTheSameSequenceToBothOutputs, (const std::vector<int>& values)) {
  std::vector<int> a, b;
  bool clean = false;
  weft::run({.procs = any_procs()}, [&] {
    auto done = weft::make_chan<weft::unit>();
    auto [out1, out2] = wp::tee(done, wp::generator(done, values));
    auto other = weft::make_chan<std::vector<int>>(1);
    weft::go([out2 = out2, other] { other.send(drain(out2)); });
    a = drain(out1);
    b = *other.recv();
    done.close();
    clean = goroutines_back_to(1);
  });
  RC_ASSERT(a == values);
  RC_ASSERT(b == values);
  RC_ASSERT(clean);
}

RC_GTEST_PROP(PatternsModel, BridgePreservesTheOrderOfTheInnerChannels,
              (const std::vector<std::vector<int>>& inner)) {
  std::vector<int> got, want;
  for (const auto& v : inner) want.insert(want.end(), v.begin(), v.end());
  bool clean = false;
  weft::run({.procs = any_procs()}, [&] {
    auto done = weft::make_chan<weft::unit>();
    auto streams = weft::make_chan<weft::recv_chan<int>>();
    weft::go([&inner, streams, done] {
      // Each inner channel fed by its own producer, concurrently with the others.
      for (const auto& v : inner) {
        auto s = wp::generator(done, v);
        if (!wp::detail::send_or_done(done, streams, s)) break;
      }
      streams.close();
    });
    got = drain(wp::bridge(done, streams));
    done.close();
    clean = goroutines_back_to(1);
  });
  RC_ASSERT(got == want);
  RC_ASSERT(clean);
}

RC_GTEST_PROP(PatternsModel, TakeOfRepeatIsTheCyclicPrefix, (const std::vector<std::string>& values)) {
  RC_PRE(!values.empty());
  const auto n = *rc::gen::inRange<std::size_t>(0, 60);
  std::vector<std::string> got;
  bool clean = false;
  weft::run({.procs = any_procs()}, [&] {
    auto done = weft::make_chan<weft::unit>();
    got = drain(wp::take(done, wp::repeat(done, values), n));
    done.close();
    clean = goroutines_back_to(1);
  });
  RC_ASSERT(got.size() == n);
  for (std::size_t i = 0; i < n; ++i) RC_ASSERT(got[i] == values[i % values.size()]);
  RC_ASSERT(clean);
}

RC_GTEST_PROP(PatternsModel, FanInDeliversTheMultisetAndKeepsEachInputsOrder,
              (const std::vector<std::vector<int>>& inputs)) {
  RC_PRE(inputs.size() <= 8);
  std::vector<std::pair<std::size_t, int>> got;
  bool clean = false;
  weft::run({.procs = any_procs()}, [&] {
    auto done = weft::make_chan<weft::unit>();
    std::vector<weft::recv_chan<std::pair<std::size_t, int>>> ins;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::vector<std::pair<std::size_t, int>> tagged;
      for (int v : inputs[i]) tagged.emplace_back(i, v);
      ins.push_back(wp::generator(done, tagged));
    }
    got = drain(wp::fan_in(done, ins));
    done.close();
    clean = goroutines_back_to(1);
  });
  std::vector<std::vector<int>> per_input(inputs.size());
  for (auto& [i, v] : got) per_input[i].push_back(v);
  RC_ASSERT(per_input == inputs);
  RC_ASSERT(clean);
}

RC_GTEST_PROP(PatternsModel, FanOutThenFanInAppliesFnToEveryValueOnce, (const std::vector<int>& values)) {
  const auto workers = *rc::gen::inRange<std::size_t>(1, 6);
  std::vector<long> got;
  bool clean = false;
  weft::run({.procs = any_procs()}, [&] {
    auto done = weft::make_chan<weft::unit>();
    auto outs = wp::fan_out(done, wp::generator(done, values), workers, [](int v) { return 3L * v + 1; });
    got = drain(wp::fan_in(done, outs));
    done.close();
    clean = goroutines_back_to(1);
  });
  std::vector<long> want;
  for (int v : values) want.push_back(3L * v + 1);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  RC_ASSERT(got == want);
  RC_ASSERT(clean);
}

RC_GTEST_PROP(PatternsModel, OrDoneStopsWithinOneValueAfterDone, ()) {
  const auto before_done = *rc::gen::inRange(0, 30);
  std::size_t after = 0;
  std::vector<int> got;
  bool clean = false;
  weft::run({.procs = any_procs()}, [&] {
    auto done = weft::make_chan<weft::unit>();
    // An endless source that is not ours to close.
    auto theirs = wp::repeat_fn(sig_chan{done}, [n = 0]() mutable { return n++; });
    auto out = wp::or_done(done, theirs);
    for (int i = 0; i < before_done; ++i) got.push_back(*out.recv());
    done.close();
    after = drain(out).size();
    clean = goroutines_back_to(1);
  });
  RC_ASSERT(after <= 1u);
  for (int i = 0; i < before_done; ++i) RC_ASSERT(got[static_cast<std::size_t>(i)] == i);
  RC_ASSERT(clean);
}

RC_GTEST_PROP(PatternsModel, OrChannelClosesIffSomeInputClosed, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 14);
  const auto closing = *rc::gen::container<std::vector<bool>>(n, rc::gen::weightedElement<bool>({{1, true},
                                                                                                  {3, false}}));
  const bool variadic_pair = n == 2 && *rc::gen::arbitrary<bool>();
  bool fired = false, any_closed = false, clean = false;
  weft::run({.procs = any_procs()}, [&] {
    std::vector<weft::chan<weft::unit>> ins;
    for (std::size_t i = 0; i < n; ++i) ins.push_back(weft::make_chan<weft::unit>());
    auto any = variadic_pair ? wp::or_channel(ins[0], ins[1]) : wp::or_channel(ins);
    for (std::size_t i = 0; i < n; ++i)
      if (closing[i]) {
        ins[i].close();
        any_closed = true;
      }
    if (any_closed) {
      fired = !any.recv().has_value();
    } else {
      weft::sleep(1ms);  // time for a wrong close to happen
      fired = closed_now(any);
      ins[n - 1].close();  // end the or's goroutines
    }
    clean = goroutines_back_to(1);
  });
  RC_ASSERT(fired == any_closed);
  RC_ASSERT(clean);
}

RC_GTEST_PROP(PatternsModel, PerUnitHeartbeatAlternatesPulsesAndResults, (const std::vector<int>& values)) {
  bool alternated = true, clean = false;
  std::vector<long> got;
  weft::run({.procs = any_procs()}, [&] {
    auto done = weft::make_chan<weft::unit>();
    auto [pulses, results] = wp::heartbeat(done, wp::generator(done, values), [](int v) { return -static_cast<long>(v); });
    for (std::size_t i = 0; i < values.size(); ++i) {
      alternated = alternated && pulses.recv().has_value();
      auto r = results.recv();
      if (!r) break;
      got.push_back(*r);
    }
    alternated = alternated && !results.recv().has_value() && !pulses.recv().has_value();
    done.close();
    clean = goroutines_back_to(1);
  });
  std::vector<long> want;
  for (int v : values) want.push_back(-static_cast<long>(v));
  RC_ASSERT(alternated);
  RC_ASSERT(got == want);
  RC_ASSERT(clean);
}
