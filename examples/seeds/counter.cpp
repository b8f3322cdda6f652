// Counter++ — the race the seeds show `go build -race` finding:
//
//   var Wait sync.WaitGroup
//   var Counter int = 0
//   func main() {
//       for routine := 1; routine <= 2; routine++ { Wait.Add(1); go Routine() }
//       Wait.Wait()
//       fmt.Printf("Final Counter:%d\n", Counter)
//   }
//   func Routine() { Counter++; Wait.Done() }
//
// The program usually prints 2, yet Counter++ is a read and a write that
// nothing orders between the two goroutines: a data race (and, in an unlucky
// interleaving, a lost update). Only a race detector tells: the explorer
// reports it whatever the schedule. The twin increments under a mutex.
//
// Counter++ is written as a load() and a store() so that the report names the
// line of each access.
#include <weft/weft.hpp>
#include <weft/check/shared.hpp>

#include "seeds.hpp"

namespace seeds {
namespace {

struct counter_program {
  weft::wait_group wait;
  weft::check::shared<int> counter{0};
  weft::mutex mu;  // the twin's
};

void routine(counter_program& p) {
  p.counter.store(p.counter.load() + 1);  // Counter++
  p.wait.done();
}

void locked_routine(counter_program& p) {
  p.mu.lock();
  p.counter.store(p.counter.load() + 1);
  p.mu.unlock();
  p.wait.done();
}

template <void (*Routine)(counter_program&)>
void count_twice() {
  counter_program p;
  for (int r = 1; r <= 2; ++r) {
    p.wait.add(1);
    weft::go([&p] { Routine(p); });
  }
  p.wait.wait();
  say("Final Counter:%d\n", p.counter.load());
}

}  // namespace

void counter_bad() { count_twice<routine>(); }
void counter_fixed() { count_twice<locked_routine>(); }

}  // namespace seeds
