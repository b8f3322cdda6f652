// weft's sync, context and rate benchmarks (issue 3). Each BM_<Name>/procs:<P>
// does exactly the work of its Go twin (bench/go/sync_bench_test.go,
// Benchmark<Name> at GOMAXPROCS P); bench/README.md defines every one, and
// bench/compare.py prints them side by side.
//
// As in weft_bench.cpp, the body runs as the main goroutine of a weft::run
// with `procs` workers. Where the work is spread over several goroutines
// (Mutex4Way, RWMutexReadMostly, AtomicValueLoad, RWMutexRead, RateAllowN) the
// whole batch of N ops is timed as one, starting the goroutines included
// (`while (state.KeepRunningBatch(n))`, as MPMC4x4), and the Go twin times the
// same from b.ResetTimer() to the last wg.Wait().
//
// These benchmarks measure the process's CPU time (MeasureProcessCPUTime: every
// thread), which the Go twins report as cpu-ns/op; compare.py prints both
// beside the wall-time table.
#include <benchmark/benchmark.h>

#include <weft/weft.hpp>

#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <vector>

namespace {

using benchmark::IterationCount;

template <class Body>
void on_procs(benchmark::State& state, Body&& body) {
  weft::run({.procs = static_cast<unsigned>(state.range(0)), .report_leaks = true}, [&] { body(); });
}

// Goroutine k's share of n ops split over `ways` goroutines (the remainder to
// the first ones), as the Go twins split b.N.
IterationCount share_of(IterationCount n, int ways, int k) { return n / ways + (k < n % ways ? 1 : 0); }

// One op: lock, increment a counter, unlock, in the benchmark goroutine.
void BM_MutexUncontended(benchmark::State& state) {
  on_procs(state, [&] {
    weft::mutex mu;
    long counter = 0;
    for (auto _ : state) {
      mu.lock();
      ++counter;
      mu.unlock();
    }
    benchmark::DoNotOptimize(counter);
  });
}

// One op: one lock, increment, unlock by one of 4 goroutines hammering the
// same mutex (each does N/4); the batch includes starting them.
void BM_Mutex4Way(benchmark::State& state) {
  constexpr int ways = 4;
  on_procs(state, [&] {
    const IterationCount n = state.max_iterations;
    while (state.KeepRunningBatch(n)) {
      weft::mutex mu;
      weft::wait_group wg;
      long counter = 0;
      for (int k = 0; k < ways; ++k) {
        wg.add(1);
        weft::go([&, share = share_of(n, ways, k)] {
          for (IterationCount i = 0; i < share; ++i) {
            mu.lock();
            ++counter;
            mu.unlock();
          }
          wg.done();
        });
      }
      wg.wait();
      if (counter != n) state.SkipWithError("Mutex4Way lost increments");
    }
  });
}

// One op: one read (rlock, read the counter, runlock) or one write (lock,
// increment, unlock) by one of 4 goroutines (each does N/4). Each goroutine's
// k-th op is a write when k % 101 == 100: one write after every 100 reads.
void BM_RWMutexReadMostly(benchmark::State& state) {
  constexpr int ways = 4;
  on_procs(state, [&] {
    const IterationCount n = state.max_iterations;
    while (state.KeepRunningBatch(n)) {
      weft::rw_mutex rw;
      weft::wait_group wg;
      long counter = 0;
      std::vector<long> seen(ways, 0);
      for (int k = 0; k < ways; ++k) {
        wg.add(1);
        weft::go([&, k, share = share_of(n, ways, k)] {
          long sum = 0;
          for (IterationCount i = 0; i < share; ++i) {
            if (i % 101 == 100) {
              rw.lock();
              ++counter;
              rw.unlock();
            } else {
              rw.lock_shared();
              sum += counter;
              rw.unlock_shared();
            }
          }
          seen[k] = sum;
          wg.done();
        });
      }
      wg.wait();
      benchmark::DoNotOptimize(seen.data());
    }
  });
}

// The seeds' comparison (seeds/004: BenchmarkAtomic vs BenchmarkMutex): a
// config of 6 ints, replaced over and over by one writer goroutine while 4
// reader goroutines each read it N times. One op is one read in each reader
// (ns/op = wall time / N, as the seed's), the writer running throughout.
struct config {
  std::vector<int> a;
};

config make_config(int i) { return config{{i, i + 1, i + 2, i + 3, i + 4, i + 5}}; }

// The RWMutex twin's config, shared like Go's *Config.
std::shared_ptr<const config> fresh_config(int i) { return std::make_shared<const config>(make_config(i)); }

// The readers of the seeds' comparison, each reading with read(v).
template <class Read>
void atomic_value_readers(benchmark::State& state, Read read) {
  constexpr int readers = 4;
  on_procs(state, [&] {
    weft::atomic_value<config> v;
    v.store(make_config(0));  // by value: one block for node and config, as Go's one allocation of Config
    weft::atomic<bool> stop{false};
    // How hard the writer pushed: stores/op. A line of its own (the struct's
    // size is its alignment): the writer bumps it on every store.
    struct alignas(64) {
      std::atomic<long> n{0};
    } stores;
    weft::wait_group writer;
    writer.go([&] {
      for (int i = 1; !stop.load(std::memory_order_relaxed); ++i) {
        v.store(make_config(i));
        stores.n.store(i, std::memory_order_relaxed);
      }
    });
    const IterationCount n = state.max_iterations;
    long stored = 0;
    while (state.KeepRunningBatch(n)) {
      weft::wait_group wg;
      std::vector<long> seen(readers, 0);
      const long before = stores.n.load(std::memory_order_relaxed);
      for (int k = 0; k < readers; ++k) {
        wg.add(1);
        weft::go([&, k, n] {
          // Go's closure loads what it captured once, at entry (n by value,
          // v by address); GCC would reload each closure member after every
          // atomic operation in the loop. So take them into locals.
          const weft::atomic_value<config>& value = v;
          const IterationCount count = n;
          long sum = 0;
          for (IterationCount i = 0; i < count; ++i) sum += read(value);
          seen[k] = sum;
          wg.done();
        });
      }
      wg.wait();
      stored += stores.n.load(std::memory_order_relaxed) - before;
      benchmark::DoNotOptimize(seen.data());
    }
    stop.store(true);
    writer.wait();
    state.counters["stores/op"] = static_cast<double>(stored) / static_cast<double>(state.iterations());
  });
}

// Reader: take a snapshot (atomic_value::load) and touch it.
void BM_AtomicValueLoad(benchmark::State& state) {
  atomic_value_readers(state, [](const weft::atomic_value<config>& v) {
    const auto cfg = v.load();
    return cfg->a.front();
  });
}

// Reader: take the snapshot as an owning std::shared_ptr<const config>
// (its control block built in the thread's hazard record). Go's twin is
// AtomicValueLoad itself: Go has no owning pointer besides the GC's.
void BM_AtomicValueLoadShared(benchmark::State& state) {
  atomic_value_readers(state, [](const weft::atomic_value<config>& v) {
    const std::shared_ptr<const config> cfg = v.load();
    return cfg->a.front();
  });
}

// Reader: read the config in place (atomic_value::borrow), as Go's Load.
void BM_AtomicValueBorrow(benchmark::State& state) {
  atomic_value_readers(state, [](const weft::atomic_value<config>& v) { return v.borrow()->a.front(); });
}

// One goroutine reading an unchanging config with read(v), nobody storing:
// the read path alone (every read a hit).
template <class Read>
void read_alone(benchmark::State& state, Read read) {
  on_procs(state, [&] {
    weft::atomic_value<config> v;
    v.store(make_config(1));
    long sum = 0;
    for (auto _ : state) sum += read(v);
    benchmark::DoNotOptimize(sum);
  });
}

// In place (borrow's sticky name hits every time).
void BM_AtomicValueBorrowAlone(benchmark::State& state) {
  read_alone(state, [](const weft::atomic_value<config>& v) { return v.borrow()->a.front(); });
}

// As a snapshot (load).
void BM_AtomicValueLoadAlone(benchmark::State& state) {
  read_alone(state, [](const weft::atomic_value<config>& v) { return v.load()->a.front(); });
}

// As an owning shared_ptr (load, converted: the control block built in the
// thread's slot).
void BM_AtomicValueLoadSharedAlone(benchmark::State& state) {
  read_alone(state, [](const weft::atomic_value<config>& v) {
    return std::shared_ptr<const config>(v.load())->a.front();
  });
}

// The floor under a shared_ptr snapshot: a std::shared_ptr<const config>
// built over a block that is already there (no allocation, a deleter that
// does nothing) and dropped, and nothing else; the loop is read_alone's. Any
// read that returns a shared_ptr pays this on top of finding the value
// (LoadAlone).
// A baseline with no Go twin: Go's Load returns a pointer the GC keeps.
template <class T>
struct one_block_allocator {
  using value_type = T;
  alignas(64) static inline unsigned char block[64];
  one_block_allocator() = default;
  template <class U>
  one_block_allocator(const one_block_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    static_assert(sizeof(T) <= sizeof(block));
    if (n != 1) throw std::bad_alloc();
    return reinterpret_cast<T*>(block);
  }
  void deallocate(T*, std::size_t) noexcept {}
  friend bool operator==(const one_block_allocator&, const one_block_allocator&) noexcept { return true; }
};

void BM_SharedPtrBuildDrop(benchmark::State& state) {
  static const config fixed = make_config(1);
  read_alone(state, [](const weft::atomic_value<config>&) {
    return std::shared_ptr<const config>(&fixed, [](const config*) {}, one_block_allocator<config>{})->a.front();
  });
}

// The readers of the RWMutex comparison: 4 goroutines, reader k running
// seen[k] = read(lock, current, n, k) (n reads) while one writer replaces the
// config under the write lock. (The seed's writer takes the read lock to
// replace the config: a data race.) Counters: writes/op, and whatever
// extra(state, writes) adds.
constexpr int rw_readers = 4;
template <class Read, class Extra>
void rw_mutex_readers(benchmark::State& state, Read read, Extra extra) {
  on_procs(state, [&] {
    weft::rw_mutex rw;
    std::shared_ptr<const config> cfg = fresh_config(0);
    weft::atomic<bool> stop{false};
    // How often the writer got in: writes/op (as atomic_value_readers' stores).
    struct alignas(64) {
      std::atomic<long> n{0};
    } writes;
    weft::wait_group writer;
    writer.go([&] {
      for (int i = 1; !stop.load(std::memory_order_relaxed); ++i) {
        rw.lock();
        cfg = fresh_config(i);
        rw.unlock();
        writes.n.store(i, std::memory_order_relaxed);
      }
    });
    const IterationCount n = state.max_iterations;
    long written = 0;
    std::vector<long> seen(rw_readers, 0);
    while (state.KeepRunningBatch(n)) {
      const long before = writes.n.load(std::memory_order_relaxed);
      weft::wait_group wg;
      for (int k = 0; k < rw_readers; ++k) {
        wg.add(1);
        weft::go([&, k, n] {
          // read gets what it uses as parameters: locals, as the captures
          // taken into locals in atomic_value_readers.
          seen[k] = read(rw, cfg, n, k);
          wg.done();
        });
      }
      wg.wait();
      written += writes.n.load(std::memory_order_relaxed) - before;
      benchmark::DoNotOptimize(seen.data());
    }
    stop.store(true);
    writer.wait();
    state.counters["writes/op"] = static_cast<double>(written) / static_cast<double>(state.iterations());
    extra(state, written);
  });
}

// Reader: rlock, touch the config, runlock.
void BM_RWMutexRead(benchmark::State& state) {
  rw_mutex_readers(
      state,
      [](weft::rw_mutex& lock, const std::shared_ptr<const config>& current, IterationCount count, int) {
        long sum = 0;
        for (IterationCount i = 0; i < count; ++i) {
          lock.lock_shared();
          sum += current->a.front();
          lock.unlock_shared();
        }
        return sum;
      },
      [](benchmark::State&, long) {});
}

// Diagnostic twin of RWMutexRead (the same loop, plus a compare per read):
// how the reads fall between writes. A reader's cycle is a run of its reads
// that saw one config. cycles/write: how many readers saw each write;
// reads/cycle: how many reads each such reader fitted in. Lockstep (a reader
// reads only on the tokens of the readers the writer waited for) gives 4. A
// long run (over 64 reads) means the writer was off its core for a while:
// long_share is the share of all reads done in long runs, long_runs their
// number, reads/short_cycle the mean of the other cycles.
void BM_RWMutexReadCycles(benchmark::State& state) {
  constexpr long long_run = 64;
  struct runs {
    long cycles = 0, long_runs = 0, long_reads = 0;
  };
  std::vector<runs> per(rw_readers);
  rw_mutex_readers(
      state,
      [&per](weft::rw_mutex& lock, const std::shared_ptr<const config>& current, IterationCount count, int k) {
        runs r;
        long run = 0;
        int last = -1;
        const auto end_run = [&] {
          if (run > long_run) {
            ++r.long_runs;
            r.long_reads += run;
          }
        };
        for (IterationCount i = 0; i < count; ++i) {
          lock.lock_shared();
          const int c = current->a.front();
          lock.unlock_shared();
          if (c != last) {
            end_run();
            ++r.cycles;
            run = 0;
            last = c;
          }
          ++run;
        }
        end_run();
        per[k] = r;
        return r.cycles;
      },
      [&per](benchmark::State& st, long written) {
        runs t;
        for (const runs& r : per) {
          t.cycles += r.cycles;
          t.long_runs += r.long_runs;
          t.long_reads += r.long_reads;
        }
        const double reads = static_cast<double>(st.iterations()) * static_cast<double>(per.size());
        if (written > 0) st.counters["cycles/write"] = static_cast<double>(t.cycles) / static_cast<double>(written);
        st.counters["reads/cycle"] = reads / static_cast<double>(t.cycles);
        st.counters["long_share"] = static_cast<double>(t.long_reads) / reads;
        st.counters["long_runs"] = static_cast<double>(t.long_runs);
        if (t.cycles > t.long_runs)
          st.counters["reads/short_cycle"] =
              (reads - static_cast<double>(t.long_reads)) / static_cast<double>(t.cycles - t.long_runs);
      });
}

// One op: add(1), done(), wait() in the benchmark goroutine (wait finds the
// counter at zero and returns at once).
void BM_WaitGroup(benchmark::State& state) {
  on_procs(state, [&] {
    weft::wait_group wg;
    for (auto _ : state) {
      wg.add(1);
      wg.done();
      wg.wait();
    }
  });
}

// One op: derive a cancellable child of background() and cancel it.
void BM_ContextWithCancel(benchmark::State& state) {
  on_procs(state, [&] {
    const weft::context bg = weft::background();
    for (auto _ : state) {
      auto [ctx, cancel] = weft::with_cancel(bg);
      cancel();
      benchmark::DoNotOptimize(ctx);
    }
  });
}

// One op: call() on a once whose function has already run.
void BM_OnceFast(benchmark::State& state) {
  on_procs(state, [&] {
    weft::once o;
    long runs = 0;
    auto f = [&runs] { ++runs; };
    o.call(f);
    for (auto _ : state) o.call(f);
    if (runs != 1) state.SkipWithError("OnceFast ran its function again");
    benchmark::DoNotOptimize(runs);
  });
}

// One op: allow() (the clock read included) on a limiter with the infinite
// limit and a burst of 1, in the benchmark goroutine: always allowed.
void BM_RateAllow(benchmark::State& state) {
  on_procs(state, [&] {
    weft::rate::limiter lim(weft::rate::inf, 1);
    long allowed = 0;
    for (auto _ : state) allowed += lim.allow();
    if (allowed != state.iterations()) state.SkipWithError("RateAllow denied an event");
    benchmark::DoNotOptimize(allowed);
  });
}

// x/time/rate's own BenchmarkAllowN: a limiter of one event per second with a
// burst of 1, allow_n(now, 1) at one fixed instant (so all but the first are
// denied: the full bucket arithmetic every time), by P goroutines in parallel
// (Go's b.RunParallel at GOMAXPROCS P; each does N/P).
void BM_RateAllowN(benchmark::State& state) {
  on_procs(state, [&] {
    weft::rate::limiter lim(weft::rate::every(std::chrono::seconds(1)), 1);
    const weft::time_point t = weft::now();
    const int ways = static_cast<int>(state.range(0));
    const IterationCount n = state.max_iterations;
    while (state.KeepRunningBatch(n)) {
      weft::wait_group wg;
      std::vector<long> allowed(ways, 0);
      for (int k = 0; k < ways; ++k) {
        wg.add(1);
        weft::go([&, k, share = share_of(n, ways, k)] {
          long a = 0;
          for (IterationCount i = 0; i < share; ++i) a += lim.allow_n(t, 1);
          allowed[k] = a;
          wg.done();
        });
      }
      wg.wait();
      benchmark::DoNotOptimize(allowed.data());
    }
  });
}

}  // namespace

// Called by weft_bench.cpp's register_all().
void register_sync_benchmarks() {
  for (auto* b : {
           benchmark::RegisterBenchmark("BM_MutexUncontended", BM_MutexUncontended),
           benchmark::RegisterBenchmark("BM_Mutex4Way", BM_Mutex4Way),
           benchmark::RegisterBenchmark("BM_RWMutexReadMostly", BM_RWMutexReadMostly),
           benchmark::RegisterBenchmark("BM_AtomicValueLoad", BM_AtomicValueLoad),
           benchmark::RegisterBenchmark("BM_AtomicValueBorrow", BM_AtomicValueBorrow),
           benchmark::RegisterBenchmark("BM_AtomicValueBorrowAlone", BM_AtomicValueBorrowAlone),
           benchmark::RegisterBenchmark("BM_AtomicValueLoadAlone", BM_AtomicValueLoadAlone),
           benchmark::RegisterBenchmark("BM_AtomicValueLoadShared", BM_AtomicValueLoadShared),
           benchmark::RegisterBenchmark("BM_AtomicValueLoadSharedAlone", BM_AtomicValueLoadSharedAlone),
           benchmark::RegisterBenchmark("BM_SharedPtrBuildDrop", BM_SharedPtrBuildDrop),
           benchmark::RegisterBenchmark("BM_RWMutexRead", BM_RWMutexRead),
           benchmark::RegisterBenchmark("BM_RWMutexReadCycles", BM_RWMutexReadCycles),
           benchmark::RegisterBenchmark("BM_WaitGroup", BM_WaitGroup),
           benchmark::RegisterBenchmark("BM_ContextWithCancel", BM_ContextWithCancel),
           benchmark::RegisterBenchmark("BM_OnceFast", BM_OnceFast),
           benchmark::RegisterBenchmark("BM_RateAllow", BM_RateAllow),
           benchmark::RegisterBenchmark("BM_RateAllowN", BM_RateAllowN),
       })
    b->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime()->MeasureProcessCPUTime();
}
