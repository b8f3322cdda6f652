// Greedy vs polite worker — the starvation of *Concurrency in Go*, chapter 1:
// two workers need the same lock for the same amount of work per loop; the
// greedy one holds it for its whole loop (3ns), the polite one only for each
// nanosecond it needs (three times 1ns).
//
//   greedyWorker := func() {
//       for begin := time.Now(); time.Since(begin) <= runtime; {
//           sharedLock.Lock(); time.Sleep(3*time.Nanosecond); sharedLock.Unlock()
//           count++
//       }
//   }
//   politeWorker := func() {
//       for begin := time.Now(); time.Since(begin) <= runtime; {
//           sharedLock.Lock(); time.Sleep(1*time.Nanosecond); sharedLock.Unlock()
//           sharedLock.Lock(); time.Sleep(1*time.Nanosecond); sharedLock.Unlock()
//           sharedLock.Lock(); time.Sleep(1*time.Nanosecond); sharedLock.Unlock()
//           count++
//       }
//   }
//
// Go's mutex lets a running goroutine take the lock ahead of a waiter it just
// woke (normal mode), so the greedy worker, unlocking and locking again
// without ever stopping, keeps barging in while the polite worker waits: it
// is passed over again and again. The twin guards the work with a FIFO lock
// (weft::semaphore of one unit, Go's x/sync/semaphore: a release hands the
// unit to the oldest waiter and nobody jumps the queue), so each waiter is
// served in turn.
//
// Each finished work loop is progress (weft::check::progress()): the workers
// do useful work without ever communicating, and the livelock detector must
// not mistake a long, busy run for a livelock.
//
// The seed runs for a second of wall time. Under the explorer time is
// virtual and a loop is a few steps, so the programs run for 10us there:
// thousands of loops, plenty to see who gets the lock.
#include <chrono>

#include <weft/weft.hpp>
#include <weft/check/explore.hpp>

#include "seeds.hpp"

using namespace std::chrono_literals;

namespace seeds {
namespace {

weft::duration run_time() { return weft::check::exploring() ? weft::duration(10us) : weft::duration(1s); }

// The seed's workers, over any lock with lock() and unlock().
template <class Lock>
void greedy_worker(Lock& shared_lock) {
  int count = 0;
  const weft::duration runtime = run_time();
  for (auto begin = weft::now(); weft::now() - begin <= runtime;) {
    shared_lock.lock();
    weft::sleep(3ns);  // the greedy worker's whole loop, under the lock
    shared_lock.unlock();
    ++count;
    weft::check::progress();  // a work loop done: not a livelock, however long this runs
  }
  say("Greedy worker was able to execute %d work loops\n", count);
}

template <class Lock>
void polite_worker(Lock& shared_lock) {
  int count = 0;
  const weft::duration runtime = run_time();
  for (auto begin = weft::now(); weft::now() - begin <= runtime;) {
    shared_lock.lock();
    weft::sleep(1ns);
    shared_lock.unlock();

    shared_lock.lock();
    weft::sleep(1ns);
    shared_lock.unlock();

    shared_lock.lock();
    weft::sleep(1ns);
    shared_lock.unlock();
    ++count;
    weft::check::progress();
  }
  say("Polite worker was able to execute %d work loops.\n", count);
}

// A lock that serves waiters in arrival order: a weighted semaphore of one
// unit (FIFO, no barging).
class fifo_lock {
 public:
  void lock(const weft::source_location& where = weft::source_location::current()) {
    (void)units_.acquire(weft::background(), 1, where);  // background is never cancelled
  }
  void unlock() { units_.release(1); }

 private:
  weft::semaphore units_{1};
};

template <class Lock>
void greedy_and_polite() {
  Lock shared_lock;
  weft::wait_group wg;
  wg.go([&] { greedy_worker(shared_lock); });
  wg.go([&] { polite_worker(shared_lock); });
  wg.wait();
}

}  // namespace

void greedy_polite_bad() { greedy_and_polite<weft::mutex>(); }
void greedy_polite_fixed() { greedy_and_polite<fifo_lock>(); }

}  // namespace seeds
