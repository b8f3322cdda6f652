// weft's benchmark suite. Each BM_<Name>/procs:<P> does exactly the work of
// its Go twin (bench/go/weft_bench_test.go, Benchmark<Name> at GOMAXPROCS P)
// and its Boost.Fiber twin: see bench/README.md for the definitions, and
// bench/compare.py for the side-by-side table.
//
// The body of each benchmark runs as the main goroutine of a weft::run with
// `procs` workers; goroutines it needs are started before the timed loop
// unless the work itself is spread over them (MPMC4x4, Yield).
#include <benchmark/benchmark.h>

#include <weft/weft.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

// sync_bench.cpp: the sync, context and rate benchmarks (issue 3).
void register_sync_benchmarks();

namespace {

using benchmark::IterationCount;

template <class Body>
void on_procs(benchmark::State& state, Body&& body) {
  weft::run({.procs = static_cast<unsigned>(state.range(0)), .report_leaks = true}, [&] { body(); });
}

void BM_PingPong(benchmark::State& state) {
  on_procs(state, [&] {
    auto ch1 = weft::make_chan<int>();
    auto ch2 = weft::make_chan<int>();
    auto done = weft::make_chan<weft::unit>();
    weft::go([=] {
      for (int v : ch1) ch2.send(v);
      done.close();
    });
    int i = 0;
    long sum = 0;
    for (auto _ : state) {
      ch1.send(i++);
      sum += *ch2.recv();
    }
    ch1.close();
    done.recv();
    benchmark::DoNotOptimize(sum);
  });
}

void BM_SPSC(benchmark::State& state) {
  on_procs(state, [&] {
    auto ch = weft::make_chan<int>(128);
    const IterationCount n = state.max_iterations;
    weft::go([=] {
      for (IterationCount i = 0; i < n; ++i) ch.send(static_cast<int>(i));
    });
    long sum = 0;
    for (auto _ : state) sum += *ch.recv();
    benchmark::DoNotOptimize(sum);
  });
}

void BM_MPMC4x4(benchmark::State& state) {
  constexpr int producers = 4, consumers = 4;
  on_procs(state, [&] {
    const IterationCount n = state.max_iterations;
    while (state.KeepRunningBatch(n)) {
      auto ch = weft::make_chan<int>(128);
      weft::wait_group prod, cons;
      std::vector<IterationCount> counts(consumers, 0);
      for (int p = 0; p < producers; ++p) {
        const IterationCount share = n / producers + (p < n % producers ? 1 : 0);
        prod.add(1);
        weft::go([&prod, ch, share] {
          for (IterationCount i = 0; i < share; ++i) ch.send(static_cast<int>(i));
          prod.done();
        });
      }
      for (int c = 0; c < consumers; ++c) {
        cons.add(1);
        weft::go([&cons, &counts, ch, c] {
          IterationCount k = 0;
          for (int v : ch) k += v >= 0;
          counts[c] = k;
          cons.done();
        });
      }
      prod.wait();
      ch.close();
      cons.wait();
      IterationCount total = 0;
      for (IterationCount k : counts) total += k;
      if (total != n) state.SkipWithError("MPMC4x4 lost items");
    }
  });
}

void BM_Select2Ready(benchmark::State& state) {
  on_procs(state, [&] {
    auto x = weft::make_chan<int>(1);
    auto y = weft::make_chan<int>(1);
    x.send(1);
    y.send(2);
    long hits = 0;
    for (auto _ : state) {
      weft::select(weft::on_recv(x, [&](std::optional<int> v) { hits += *v; x.send(*v); }),
                   weft::on_recv(y, [&](std::optional<int> v) { hits += *v; y.send(*v); }));
    }
    benchmark::DoNotOptimize(hits);
  });
}

void BM_SelectDefault(benchmark::State& state) {
  on_procs(state, [&] {
    auto ch = weft::make_chan<int>();
    long hits = 0;
    for (auto _ : state) {
      weft::select(weft::on_recv(ch, [&](std::optional<int> v) { hits += *v; }),
                   weft::on_default([&] { ++hits; }));
    }
    benchmark::DoNotOptimize(hits);
  });
}

void BM_SpawnJoin(benchmark::State& state) {
  on_procs(state, [&] {
    weft::wait_group wg;
    for (auto _ : state) {
      wg.add(1);
      weft::go([&wg] { wg.done(); });
      wg.wait();
    }
  });
}

void BM_Yield(benchmark::State& state) {
  on_procs(state, [&] {
    const IterationCount n = state.max_iterations;
    const IterationCount half = n / 2;
    while (state.KeepRunningBatch(n)) {
      weft::wait_group wg;
      for (IterationCount k : {half, n - half}) {
        wg.add(1);
        weft::go([&wg, k] {
          for (IterationCount i = 0; i < k; ++i) weft::yield();
          wg.done();
        });
      }
      wg.wait();
    }
  });
}

// The process's resident set in bytes, from /proc/self/statm.
long rss_bytes() {
  long size = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

// Where a batch's time went, summed over batches (as the Go twin's
// blockedPhases). start: from the first spawn until every goroutine has
// started; close: the release (close, or the gate's done), which readies
// every blocked goroutine; exit: from then until every goroutine has exited.
struct blocked_phases {
  std::chrono::nanoseconds start{0}, close{0}, exit{0};
};

// What each goroutine of a blocked batch is parked in, and what releases it.
enum class blocked_in {
  recv,        // a receive on one unbuffered channel; released by closing it
  select,      // a select on that channel and one nobody uses (a context's
               // done() and a work channel, as Go code waits for cancellation)
  wait_group,  // wait() on a wait_group at 1, used as a gate; released by done()
};

// Starts n goroutines that all block in `in`, waits until every one has
// started, releases them all at once and waits for all to exit. Returns the
// growth of the resident set while they were all blocked.
long blocked_batch(int n, blocked_phases& ph, blocked_in in) {
  using clock = std::chrono::steady_clock;
  auto ch = weft::make_chan<int>();
  auto never = weft::make_chan<int>();
  weft::wait_group started, exited, gate;
  started.add(n);
  exited.add(n);
  gate.add(1);
  const long before = rss_bytes();
  const auto t0 = clock::now();
  // A loop per kind, so that each goroutine captures only what it uses.
  switch (in) {
    case blocked_in::recv:
      for (int i = 0; i < n; ++i)
        weft::go([&started, &exited, ch] {
          started.done();
          ch.recv();
          exited.done();
        });
      break;
    case blocked_in::select:
      for (int i = 0; i < n; ++i)
        weft::go([&started, &exited, ch, never] {
          started.done();
          weft::select(weft::on_recv(ch), weft::on_recv(never));
          exited.done();
        });
      break;
    case blocked_in::wait_group:
      for (int i = 0; i < n; ++i)
        weft::go([&started, &exited, &gate] {
          started.done();
          gate.wait();
          exited.done();
        });
      break;
  }
  started.wait();
  const auto t1 = clock::now();
  const long after = rss_bytes();
  const auto t2 = clock::now();
  if (in == blocked_in::wait_group)
    gate.done();
  else
    ch.close();
  const auto t3 = clock::now();
  exited.wait();
  const auto t4 = clock::now();
  ph.start += t1 - t0;
  ph.close += t3 - t2;
  ph.exit += t4 - t3;
  return after - before;
}

// One iteration is a whole batch. rss_per_g comes from the first, untimed
// batch of the runtime, when every goroutine gets a fresh g and stack (later
// batches reuse them warm, as Go's do): the largest growth seen for this n
// and procs. g_per_op (= n) turns ns/op into ns per goroutine; start_ns/g,
// close_ns/g (the release: close or done) and exit_ns/g split it as
// blocked_phases does.
void blocked_bench(benchmark::State& state, int n, blocked_in in = blocked_in::recv) {
  static std::map<std::tuple<int, std::int64_t, blocked_in>, long> max_grown;
  on_procs(state, [&] {
    long& grown = max_grown[{n, state.range(0), in}];
    blocked_phases cold, ph;
    grown = std::max(grown, blocked_batch(n, cold, in));
    for (auto _ : state) blocked_batch(n, ph, in);
    const double per_g = static_cast<double>(state.iterations()) * n;
    state.counters["rss_per_g"] = static_cast<double>(grown) / n;
    state.counters["g_per_op"] = n;
    state.counters["start_ns/g"] = static_cast<double>(ph.start.count()) / per_g;
    state.counters["close_ns/g"] = static_cast<double>(ph.close.count()) / per_g;
    state.counters["exit_ns/g"] = static_cast<double>(ph.exit.count()) / per_g;
    state.SetItemsProcessed(state.iterations() * n);
  });
}

void BM_Blocked100k(benchmark::State& state) { blocked_bench(state, 100'000); }
void BM_Blocked100kSelect(benchmark::State& state) { blocked_bench(state, 100'000, blocked_in::select); }
void BM_Blocked100kWaitGroup(benchmark::State& state) { blocked_bench(state, 100'000, blocked_in::wait_group); }
void BM_Million(benchmark::State& state) { blocked_bench(state, 1'000'000); }

void register_all() {
  for (auto* b : {
           benchmark::RegisterBenchmark("BM_PingPong", BM_PingPong),
           benchmark::RegisterBenchmark("BM_SPSC", BM_SPSC),
           benchmark::RegisterBenchmark("BM_MPMC4x4", BM_MPMC4x4),
           benchmark::RegisterBenchmark("BM_Select2Ready", BM_Select2Ready),
           benchmark::RegisterBenchmark("BM_SelectDefault", BM_SelectDefault),
           benchmark::RegisterBenchmark("BM_SpawnJoin", BM_SpawnJoin),
           benchmark::RegisterBenchmark("BM_Yield", BM_Yield),
           benchmark::RegisterBenchmark("BM_Blocked100k", BM_Blocked100k),
           benchmark::RegisterBenchmark("BM_Blocked100kSelect", BM_Blocked100kSelect),
           benchmark::RegisterBenchmark("BM_Blocked100kWaitGroup", BM_Blocked100kWaitGroup),
       })
    b->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
  // A million parked goroutines: run explicitly (--benchmark_filter=Million).
  benchmark::RegisterBenchmark("BM_Million", BM_Million)
      ->ArgName("procs")->Arg(2)->UseRealTime()->Iterations(1);
  register_sync_benchmarks();
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
