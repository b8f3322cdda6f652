// printSum — the deadlock of *Concurrency in Go*, chapter 1 ("Deadlocks,
// Livelocks, and Starvation"):
//
//   printSum := func(v1, v2 *value) {
//       defer wg.Done()
//       v1.mu.Lock(); defer v1.mu.Unlock()
//       time.Sleep(2*time.Second)
//       v2.mu.Lock(); defer v2.mu.Unlock()
//       fmt.Printf("sum=%v\n", v1.value + v2.value)
//   }
//   go printSum(&a, &b)
//   go printSum(&b, &a)
//
// The first goroutine holds a and waits for b; the second holds b and waits
// for a. All four Coffman conditions hold: a mutex has one owner (mutual
// exclusion), each goroutine keeps its first lock while it waits for the
// second (hold and wait), nothing takes a lock away (no preemption), and the
// waits form a cycle (circular wait). The twin breaks the last one: every
// goroutine locks the two values in one global order (by rank), so no cycle
// of waits can form.
#include <chrono>

#include <weft/weft.hpp>

#include "seeds.hpp"

using namespace std::chrono_literals;

namespace seeds {
namespace {

struct value {
  int rank;  // the twin's global lock order
  int amount;
  weft::mutex mu;
};

// The seed's printSum, as written: locks v1, then v2.
void print_sum(value& v1, value& v2) {
  v1.mu.lock();
  weft::sleep(2s);  // long enough for the other goroutine to take its first lock
  v2.mu.lock();     // the second lock: here both goroutines wait for each other
  say("sum=%d\n", v1.amount + v2.amount);
  v2.mu.unlock();
  v1.mu.unlock();
}

// The twin: whatever order the caller names them in, the lower rank is
// locked first.
void print_sum_in_rank_order(value& v1, value& v2) {
  value& first = v1.rank < v2.rank ? v1 : v2;
  value& second = v1.rank < v2.rank ? v2 : v1;
  first.mu.lock();
  weft::sleep(2s);
  second.mu.lock();
  say("sum=%d\n", v1.amount + v2.amount);
  second.mu.unlock();
  first.mu.unlock();
}

}  // namespace

void print_sum_bad() {
  value a{.rank = 1, .amount = 1, .mu = {}};
  value b{.rank = 2, .amount = 2, .mu = {}};
  weft::wait_group wg;
  wg.go([&] { print_sum(a, b); });  // locks a, then b
  wg.go([&] { print_sum(b, a); });  // locks b, then a
  wg.wait();
}

void print_sum_fixed() {
  value a{.rank = 1, .amount = 1, .mu = {}};
  value b{.rank = 2, .amount = 2, .mu = {}};
  weft::wait_group wg;
  wg.go([&] { print_sum_in_rank_order(a, b); });
  wg.go([&] { print_sum_in_rank_order(b, a); });
  wg.wait();
}

}  // namespace seeds
