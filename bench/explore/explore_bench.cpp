// Explorer throughput: schedules per second and steps per second, per
// strategy, on three fixed programs (issue 4):
//   Mutex     2 goroutines x 10 lock/unlock of one weft::mutex, joined by a wait_group
//   Pipeline  a 3-stage pipeline (generate -> square -> sum) of 10 items over unbuffered channels
//   FanIn     4 producers x 5 items, merged by a 4-way select loop
// One benchmark iteration is one explore() call of `schedules` runs (the
// explorer, its fibers and stacks are set up once per call, as in a test).
// No published tool reports such a figure; Coyote's documentation shows
// 12-166 schedules/s on its samples. Target: >= 100 000 schedules/s on one
// core for Mutex.
#include <benchmark/benchmark.h>

#include <weft/check.hpp>
#include <weft/weft.hpp>

namespace {

constexpr std::uint64_t schedules = 2000;

void mutex_program() {
  weft::mutex mu;
  int counter = 0;
  weft::wait_group wg;
  for (int g = 0; g < 2; ++g)
    wg.go([&] {
      for (int i = 0; i < 10; ++i) {
        mu.lock();
        ++counter;
        mu.unlock();
      }
    });
  wg.wait();
  WEFT_ASSERT(counter == 20);
}

void pipeline_program() {
  auto gen = weft::make_chan<int>();
  auto sq = weft::make_chan<int>();
  auto out = weft::make_chan<int>();
  weft::go([gen] {
    for (int i = 1; i <= 10; ++i) gen.send(i);
    gen.close();
  });
  weft::go([gen, sq] {
    for (int v : gen) sq.send(v * v);
    sq.close();
  });
  weft::go([sq, out] {
    int sum = 0;
    for (int v : sq) sum += v;
    out.send(sum);
  });
  WEFT_ASSERT(*out.recv() == 385);
}

void fan_in_program() {
  std::array<weft::chan<int>, 4> in{weft::make_chan<int>(), weft::make_chan<int>(), weft::make_chan<int>(),
                                    weft::make_chan<int>()};
  for (int p = 0; p < 4; ++p)
    weft::go([c = in[p], p] {
      for (int i = 0; i < 5; ++i) c.send(p * 100 + i);
    });
  int total = 0;
  auto add = [&total](std::optional<int> v) { total += *v; };
  for (int n = 0; n < 20; ++n)
    weft::select(weft::on_recv(in[0], add), weft::on_recv(in[1], add), weft::on_recv(in[2], add),
                 weft::on_recv(in[3], add));
  WEFT_ASSERT(total == 4 * 10 + 100 * 5 * (0 + 1 + 2 + 3));
}

weft::check::strategy strategy_of(std::int64_t i) {
  switch (i) {
    case 0:
      return weft::check::random{};
    case 1:
      return weft::check::pct{.depth = 3};
    case 2:
      return weft::check::dfs{};
    default:
      return weft::check::portfolio{};
  }
}

void explore_bench(benchmark::State& state, void (*program)()) {
  weft::check::options opt;
  opt.strategy = strategy_of(state.range(0));
  opt.iterations = schedules;
  opt.seed = 1;
  opt.time_budget = std::chrono::nanoseconds(0);
  std::uint64_t runs = 0, steps = 0;
  for (auto _ : state) {
    auto r = weft::check::explore(opt, program);
    if (!r.ok()) {
      state.SkipWithError("the program failed under the explorer");
      break;
    }
    runs += r.iterations;
    steps += r.explored_steps;
  }
  state.SetLabel(weft::check::to_string(opt.strategy));
  state.counters["schedules/s"] = benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["steps/schedule"] =
      benchmark::Counter(runs != 0 ? static_cast<double>(steps) / static_cast<double>(runs) : 0.0);
}

void BM_Explore_Mutex(benchmark::State& s) { explore_bench(s, &mutex_program); }
void BM_Explore_Pipeline(benchmark::State& s) { explore_bench(s, &pipeline_program); }
void BM_Explore_FanIn(benchmark::State& s) { explore_bench(s, &fan_in_program); }

// Arg: 0 random, 1 pct:3, 2 dfs, 3 portfolio.
BENCHMARK(BM_Explore_Mutex)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Explore_Pipeline)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Explore_FanIn)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
