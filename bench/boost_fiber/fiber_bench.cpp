// Boost.Fiber twins of weft's benchmarks (bench/weft/*.cpp), for everything
// Boost.Fiber has a primitive for: PingPong, SPSC, MPMC4x4, SpawnJoin, Yield
// and Blocked100k. Boost.Fiber has no select, so Select2Ready and
// SelectDefault have no twin here. Each benchmark does the work described in
// bench/README.md; names match the weft suite: BM_<Name>/procs:<P>.
//
// Where the body runs:
//   procs:1  inline on the benchmark thread, under Boost.Fiber's default
//            scheduler (algo::round_robin, one thread);
//   procs:2  in a fiber on a pool of two threads running
//            algo::work_stealing(2) with its default suspend=false (an idle
//            worker spins looking for fibers to steal, as Boost ships it).
//            Boost's work_stealing keeps its registry in statics and can be
//            set up once per process, so the pool is started once, on first
//            use, and its threads sleep on a std::condition_variable between
//            benchmarks (they cannot spin there and disturb procs:1 runs).
//
// Channels: unbuffered_channel<int> for PingPong and Blocked100k,
// buffered_channel<int>(128) for SPSC and MPMC4x4. Boost 1.74 requires a
// power-of-two capacity and keeps one slot free (full means
// cidx == (pidx + 1) % capacity), so buffered_channel(128) holds at most 127
// items: the nearest Boost gets to Go's make(chan int, 128).
//
// Stacks: Boost's default, fixedsize_stack (128 KiB from std::malloc), except
// Blocked100k's (16 KiB, see blocked_batch). main() tunes glibc so that the
// stacks behave like the stack caches of Go and weft: reused warm, not given
// back to the kernel and page-faulted in again on every batch:
//   - the mmap threshold goes above 128 KiB, so 100 000 live stacks come from
//     the heap rather than 100 000 mmaps (vm.max_map_count is 65 530 here);
//   - the trim threshold goes to 2 GiB, so freeing stacks never shrinks the
//     heap (malloc_trim is called explicitly before RSS baselines);
//   - one arena for all threads: a thread arena unmaps any of its 64 MiB
//     heaps that falls wholly free, whatever the trim threshold, so procs:2
//     would fault its stacks in again on every batch.

#include <benchmark/benchmark.h>

#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fibers = boost::fibers;
using benchmark::IterationCount;

// A process-wide pool of `kThreads` threads under algo::work_stealing. run()
// hands it one job, runs the job in a fiber (which may be stolen by either
// thread, as may every fiber it starts) and returns when the job is done and
// both threads are back asleep.
class work_stealing_pool {
 public:
  static constexpr unsigned kThreads = 2;

  static work_stealing_pool& instance() {
    static work_stealing_pool pool;
    return pool;
  }

  static void shutdown_if_started() {
    if (started_.load()) instance().shutdown();
  }

  void run(const std::function<void()>& job) {
    std::unique_lock lk{mu_};
    job_ = &job;
    finished_ = 0;
    ++generation_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return finished_ == kThreads; });
    job_ = nullptr;
  }

 private:
  work_stealing_pool() {
    started_.store(true);
    for (unsigned i = 0; i < kThreads; ++i) threads_.emplace_back([this, i] { worker(i); });
  }

  void shutdown() {
    {
      std::lock_guard lk{mu_};
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  void worker(unsigned index) {
    // Every participant must construct its work_stealing before any may run:
    // the constructor waits on a barrier of kThreads.
    fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(kThreads);
    std::uint64_t seen = 0;
    for (;;) {
      const std::function<void()>* job = nullptr;
      {
        std::unique_lock lk{mu_};
        cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      if (index == 0) {
        fibers::fiber{[job] { (*job)(); }}.join();
        {
          std::lock_guard lk{fiber_mu_};
          done_generation_ = seen;
        }
        fiber_cv_.notify_all();
      } else {
        // Park this thread's main fiber so its dispatcher runs (and steals)
        // until the job is over.
        std::unique_lock lk{fiber_mu_};
        fiber_cv_.wait(lk, [&] { return done_generation_ == seen; });
      }
      {
        std::lock_guard lk{mu_};
        ++finished_;
      }
      cv_.notify_all();
    }
  }

  static inline std::atomic<bool> started_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  unsigned finished_ = 0;
  bool stop_ = false;

  fibers::mutex fiber_mu_;
  fibers::condition_variable fiber_cv_;
  std::uint64_t done_generation_ = 0;

  std::vector<std::thread> threads_;
};

// Runs `body` under the scheduler that state.range(0) (procs) names.
template <class Body>
void on_procs(benchmark::State& state, Body&& body) {
  switch (state.range(0)) {
    case 1:
      body();
      break;
    case work_stealing_pool::kThreads:
      work_stealing_pool::instance().run(std::function<void()>{std::ref(body)});
      break;
    default:
      state.SkipWithError("procs must be 1 or 2");
  }
}

void BM_PingPong(benchmark::State& state) {
  on_procs(state, [&] {
    fibers::unbuffered_channel<int> ch1;
    fibers::unbuffered_channel<int> ch2;
    fibers::fiber b{[&] {
      int v = 0;
      while (ch1.pop(v) == fibers::channel_op_status::success) ch2.push(v);
    }};
    int i = 0;
    long sum = 0;
    for (auto _ : state) {
      ch1.push(i++);
      sum += ch2.value_pop();
    }
    ch1.close();
    b.join();
    benchmark::DoNotOptimize(sum);
  });
}

void BM_SPSC(benchmark::State& state) {
  on_procs(state, [&] {
    fibers::buffered_channel<int> ch{128};  // holds 127: see the top of the file
    const IterationCount n = state.max_iterations;
    fibers::fiber producer{[&] {
      for (IterationCount i = 0; i < n; ++i) ch.push(static_cast<int>(i));
    }};
    long sum = 0;
    for (auto _ : state) sum += ch.value_pop();
    producer.join();
    benchmark::DoNotOptimize(sum);
  });
}

void BM_MPMC4x4(benchmark::State& state) {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  on_procs(state, [&] {
    const IterationCount n = state.max_iterations;
    while (state.KeepRunningBatch(n)) {
      fibers::buffered_channel<int> ch{128};
      std::vector<fibers::fiber> producers;
      std::vector<fibers::fiber> consumers;
      std::vector<IterationCount> counts(kConsumers, 0);
      for (int p = 0; p < kProducers; ++p) {
        const IterationCount share = n / kProducers + (p < n % kProducers ? 1 : 0);
        producers.emplace_back([&ch, share] {
          for (IterationCount i = 0; i < share; ++i) ch.push(static_cast<int>(i));
        });
      }
      for (int c = 0; c < kConsumers; ++c) {
        consumers.emplace_back([&ch, &counts, c] {
          int v = 0;
          IterationCount k = 0;
          while (ch.pop(v) == fibers::channel_op_status::success) ++k;
          counts[c] = k;
        });
      }
      for (auto& f : producers) f.join();
      ch.close();
      for (auto& f : consumers) f.join();
      IterationCount total = 0;
      for (IterationCount k : counts) total += k;
      if (total != n) state.SkipWithError("MPMC4x4 lost items");
    }
  });
}

void BM_SpawnJoin(benchmark::State& state) {
  on_procs(state, [&] {
    for (auto _ : state) {
      fibers::fiber f{[] {}};
      f.join();
    }
  });
}

void BM_Yield(benchmark::State& state) {
  on_procs(state, [&] {
    const IterationCount n = state.max_iterations;
    const IterationCount half = n / 2;
    while (state.KeepRunningBatch(n)) {
      auto yielder = [](IterationCount k) {
        for (IterationCount i = 0; i < k; ++i) boost::this_fiber::yield();
      };
      fibers::fiber a{yielder, half};
      fibers::fiber b{yielder, n - half};
      a.join();
      b.join();
    }
  });
}

// The process's resident set in bytes, from /proc/self/statm.
long rss_bytes() {
  long size = 0;
  long resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

// Blocked100k's fibers get 16 KiB stacks (still from std::malloc, like the
// default 128 KiB ones): 100 000 of them take 1.6 GB of heap, which stays
// below glibc's trim threshold, so after the cold batch they are reused warm,
// as Go and weft reuse theirs; 100 000 x 128 KiB would be given back to the
// kernel after every batch and page-faulted in again.
constexpr std::size_t kBlockedStackSize = 16 * 1024;

// Starts n fibers that all block receiving on one unbuffered channel, waits
// until every one has started, closes the channel and joins them all. Returns
// how much the resident set grew between before the first start and when all
// had started.
long blocked_batch(int n) {
  fibers::unbuffered_channel<int> ch;
  std::atomic<int> started{0};
  std::vector<fibers::fiber> fs;
  fs.reserve(static_cast<std::size_t>(n));
  const long before = rss_bytes();
  for (int i = 0; i < n; ++i) {
    fs.emplace_back(std::allocator_arg, fibers::fixedsize_stack{kBlockedStackSize}, [&] {
      started.fetch_add(1, std::memory_order_relaxed);
      int v = 0;
      ch.pop(v);
    });
  }
  while (started.load(std::memory_order_relaxed) < n) boost::this_fiber::yield();
  const long after = rss_bytes();
  ch.close();
  for (auto& f : fs) f.join();
  return after - before;
}

// One iteration is a whole batch of n goroutines. rss_per_g is measured on an
// untimed cold batch (after malloc_trim, so freed stacks are given back and
// touched afresh), the largest growth seen in the process for this n and
// procs. g_per_op (= n) lets a reader turn ns/op into ns per fiber.
void blocked_bench(benchmark::State& state, int n) {
  static std::map<std::pair<int, std::int64_t>, long> max_grown;
  on_procs(state, [&] {
    malloc_trim(0);
    long& grown = max_grown[{n, state.range(0)}];
    grown = std::max(grown, blocked_batch(n));
    for (auto _ : state) blocked_batch(n);
    state.counters["rss_per_g"] = static_cast<double>(grown) / n;
    state.counters["g_per_op"] = n;
    state.SetItemsProcessed(state.iterations() * n);
  });
}

void BM_Blocked100k(benchmark::State& state) { blocked_bench(state, 100'000); }

void register_all() {
  for (auto* b : {
           benchmark::RegisterBenchmark("BM_PingPong", BM_PingPong),
           benchmark::RegisterBenchmark("BM_SPSC", BM_SPSC),
           benchmark::RegisterBenchmark("BM_MPMC4x4", BM_MPMC4x4),
           benchmark::RegisterBenchmark("BM_SpawnJoin", BM_SpawnJoin),
           benchmark::RegisterBenchmark("BM_Yield", BM_Yield),
           benchmark::RegisterBenchmark("BM_Blocked100k", BM_Blocked100k),
       }) {
    b->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  // See the top of the file: 128 KiB stacks from the heap, never trimmed
  // behind our back (malloc_trim is called explicitly before RSS baselines).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  mallopt(M_ARENA_MAX, 1);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  work_stealing_pool::shutdown_if_started();
  return 0;
}
