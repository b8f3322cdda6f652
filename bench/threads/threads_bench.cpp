// Plain-threads baselines for weft's benchmarks: what the same work costs with
// one std::thread per goroutine and std::mutex + std::condition_variable in
// place of channels. Names match the weft suite (BM_<Name>/procs:<P>):
//
//   BM_PingPong   the benchmark thread and one std::thread; each direction is a
//                 one-slot mailbox (mutex + condition variable) used as an
//                 unbuffered channel: a round trip is put, take, put, take.
//   BM_SPSC       a bounded queue of 128 (mutex, two condition variables), one
//                 producer thread, the benchmark thread consumes.
//   BM_MPMC4x4    the same queue, 4 producer and 4 consumer threads.
//   BM_SpawnJoin  std::thread creation + join.
//
// Threads have no procs of their own, so here procs:P means "every thread of
// the benchmark is confined to P CPUs" (sched affinity, inherited by the
// threads it starts): procs:1 is what the work costs when the OS must
// time-slice one core, procs:2 when the threads may run in parallel.

#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>

#include <array>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace {

using benchmark::IterationCount;

// Confines the calling thread (and the threads it starts from now on) to the
// first `procs` CPUs it may run on; restores the old mask when destroyed.
class cpu_confinement {
 public:
  cpu_confinement(benchmark::State& state, int procs) {
    pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_);
    if (CPU_COUNT(&saved_) < procs) {
      state.SkipWithError("fewer CPUs available than procs");
      return;
    }
    cpu_set_t want;
    CPU_ZERO(&want);
    for (int cpu = 0, taken = 0; cpu < CPU_SETSIZE && taken < procs; ++cpu) {
      if (CPU_ISSET(cpu, &saved_)) {
        CPU_SET(cpu, &want);
        ++taken;
      }
    }
    ok_ = pthread_setaffinity_np(pthread_self(), sizeof want, &want) == 0;
    if (!ok_) state.SkipWithError("pthread_setaffinity_np failed");
  }
  ~cpu_confinement() { pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_); }
  cpu_confinement(const cpu_confinement&) = delete;
  cpu_confinement& operator=(const cpu_confinement&) = delete;
  bool ok() const { return ok_; }

 private:
  cpu_set_t saved_{};
  bool ok_ = false;
};

// A one-slot mailbox: put waits until the slot is empty, take until it is
// full (or closed), so a round trip is a rendezvous each way.
class mailbox {
 public:
  void put(int v) {
    std::unique_lock lk{mu_};
    cv_.wait(lk, [&] { return !slot_; });
    slot_ = v;
    lk.unlock();
    cv_.notify_all();
  }
  std::optional<int> take() {
    std::unique_lock lk{mu_};
    cv_.wait(lk, [&] { return slot_ || closed_; });
    std::optional<int> v = std::exchange(slot_, std::nullopt);
    lk.unlock();
    cv_.notify_all();
    return v;
  }
  void close() {
    {
      std::lock_guard lk{mu_};
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<int> slot_;
  bool closed_ = false;
};

// A bounded FIFO of 128 ints guarded by one mutex, with one condition
// variable for "not empty" and one for "not full". pop returns nullopt once
// closed and drained.
class bounded_queue {
 public:
  static constexpr std::size_t kCapacity = 128;

  void push(int v) {
    std::unique_lock lk{mu_};
    not_full_.wait(lk, [&] { return count_ < kCapacity; });
    items_[(head_ + count_) % kCapacity] = v;
    ++count_;
    lk.unlock();
    not_empty_.notify_one();
  }
  std::optional<int> pop() {
    std::unique_lock lk{mu_};
    not_empty_.wait(lk, [&] { return count_ > 0 || closed_; });
    if (count_ == 0) return std::nullopt;
    const int v = items_[head_];
    head_ = (head_ + 1) % kCapacity;
    --count_;
    lk.unlock();
    not_full_.notify_one();
    return v;
  }
  void close() {
    {
      std::lock_guard lk{mu_};
      closed_ = true;
    }
    not_empty_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::array<int, kCapacity> items_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  bool closed_ = false;
};

void BM_PingPong(benchmark::State& state) {
  cpu_confinement pin{state, static_cast<int>(state.range(0))};
  if (!pin.ok()) return;
  mailbox ping;
  mailbox pong;
  std::thread b{[&] {
    while (std::optional<int> v = ping.take()) pong.put(*v);
  }};
  int i = 0;
  long sum = 0;
  for (auto _ : state) {
    ping.put(i++);
    sum += *pong.take();
  }
  ping.close();
  b.join();
  benchmark::DoNotOptimize(sum);
}

void BM_SPSC(benchmark::State& state) {
  cpu_confinement pin{state, static_cast<int>(state.range(0))};
  if (!pin.ok()) return;
  bounded_queue q;
  const IterationCount n = state.max_iterations;
  std::thread producer{[&] {
    for (IterationCount i = 0; i < n; ++i) q.push(static_cast<int>(i));
  }};
  long sum = 0;
  for (auto _ : state) sum += *q.pop();
  producer.join();
  benchmark::DoNotOptimize(sum);
}

void BM_MPMC4x4(benchmark::State& state) {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  cpu_confinement pin{state, static_cast<int>(state.range(0))};
  if (!pin.ok()) return;
  const IterationCount n = state.max_iterations;
  while (state.KeepRunningBatch(n)) {
    bounded_queue q;
    std::vector<std::thread> producers;
    std::vector<std::thread> consumers;
    std::vector<IterationCount> counts(kConsumers, 0);
    for (int p = 0; p < kProducers; ++p) {
      const IterationCount share = n / kProducers + (p < n % kProducers ? 1 : 0);
      producers.emplace_back([&q, share] {
        for (IterationCount i = 0; i < share; ++i) q.push(static_cast<int>(i));
      });
    }
    for (int c = 0; c < kConsumers; ++c) {
      consumers.emplace_back([&q, &counts, c] {
        IterationCount k = 0;
        while (q.pop()) ++k;
        counts[c] = k;
      });
    }
    for (auto& t : producers) t.join();
    q.close();
    for (auto& t : consumers) t.join();
    IterationCount total = 0;
    for (IterationCount k : counts) total += k;
    if (total != n) state.SkipWithError("MPMC4x4 lost items");
  }
}

void BM_SpawnJoin(benchmark::State& state) {
  cpu_confinement pin{state, static_cast<int>(state.range(0))};
  if (!pin.ok()) return;
  for (auto _ : state) {
    std::thread t{[] {}};
    t.join();
  }
}

}  // namespace

BENCHMARK(BM_PingPong)->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_SPSC)->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_MPMC4x4)->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_SpawnJoin)->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();

BENCHMARK_MAIN();
