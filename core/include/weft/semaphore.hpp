// weft::semaphore — a weighted semaphore (golang.org/x/sync/semaphore).
//
//   weft::semaphore sem(10);                        // 10 units
//   if (weft::error e = sem.acquire(ctx, 3)) return e;   // ctx's error if cancelled first
//   ...
//   sem.release(3);
//
// State: `cur` units held out of `size`, and a FIFO queue of waiters, each
// wanting n units. Invariants: 0 <= cur <= size; a waiter is queued only while
// it does not fit or someone is queued before it.
//
// Fairness is FIFO, as in x/sync: a request that does not fit waits behind
// every earlier one, and a large request at the head holds back smaller ones
// behind it that would fit (no starvation of large requests). try_acquire
// never jumps the queue either. release hands units to waiters from the head
// while the head fits.
//
// Cancellation (x/sync's rules): acquire fails with ctx.err() without waiting
// if ctx is already done; a request larger than size can never succeed and
// waits only for ctx; a waiter whose ctx is cancelled leaves the queue (which
// may let the ones behind it through) and returns ctx.err(); a waiter granted
// its units at the same time as its ctx is cancelled gives them back and
// returns ctx.err().
//
// Misuse throws panic_error: releasing more than is held ("semaphore: released
// more than held"), negative weights ("semaphore: negative weight").
//
// Happens-before: a release happens before every acquire it lets succeed (and
// generally before every later acquire), as with a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include "weft/source_location.hpp"

#include "weft/context.hpp"
#include "weft/error.hpp"

namespace weft {

namespace detail {
struct weighted_sema;
}

class semaphore {
 public:
  explicit semaphore(std::int64_t size);
  ~semaphore();
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  // Take n units, waiting (FIFO) until they are free or ctx is done.
  error acquire(const context& ctx, std::int64_t n = 1,
                const weft::source_location& where = weft::source_location::current());
  // Take n units only if that needs no wait and nobody is queued.
  bool try_acquire(std::int64_t n = 1, const weft::source_location& where = weft::source_location::current());
  // Give back n units.
  void release(std::int64_t n = 1);

  std::int64_t size() const noexcept;

 private:
  std::unique_ptr<detail::weighted_sema> s_;
};

}  // namespace weft
