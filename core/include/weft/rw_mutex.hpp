// weft::rw_mutex — Go's sync.RWMutex: many readers or one writer.
//
//   weft::rw_mutex m;
//   { std::shared_lock r(m); ... }     // SharedLockable: lock_shared / unlock_shared
//   { std::lock_guard w(m); ... }      // Lockable: lock / unlock
//
// Writer preference, as Go's: once a writer waits, goroutines arriving to
// read block until it has had its turn, so a stream of readers cannot starve
// a writer (and a reader that re-enters lock_shared while a writer waits
// deadlocks, exactly as in Go). Writers take turns through an inner mutex.
//
// State (Go's design):
//   reader_count_  readers holding or waiting; minus max_readers while a writer
//                  is pending or holds the lock (that is how readers learn of it)
//   reader_wait_   readers the pending writer still waits for (those that held
//                  the lock when it arrived)
//   writer_sem_    the pending writer parks here; the last departing reader
//                  releases it
//   reader_sem_    readers that arrived behind a writer park here; unlock
//                  releases one token per such reader
//
// Misuse throws panic_error with Go's text and changes nothing:
// "sync: RUnlock of unlocked RWMutex", "sync: Unlock of unlocked RWMutex".
// (Unobserved, the inline paths update the count as Go does and take the
// change back before panicking; a misuse racing with a writer's lock can then
// upset that writer for good, where Go would have crashed.)
//
// Fast paths: with nobody listening for interleaving points (no explorer, no
// TSan: detail::attention == 0), lock_shared / unlock_shared / lock / unlock
// do exactly Go's atomic operations inline — one atomic add for a reader, the
// inner mutex's CAS and one add each way for a writer — and go out of line
// only to wait, to wake, or to panic. Otherwise the *_observed versions add
// the interleaving point, the happens-before edges and the resource records.
//
// Happens-before (Go's memory model): unlock happens before every later
// lock_shared and lock; each unlock_shared happens before the lock that
// follows it. Readers are not ordered with each other.
#pragma once

#include <atomic>
#include <cstdint>
#include "weft/source_location.hpp"

#include "weft/mutex.hpp"

namespace weft {

class rw_mutex {
 public:
  static constexpr std::int32_t max_readers = 1 << 30;

  constexpr rw_mutex() noexcept = default;
  rw_mutex(const rw_mutex&) = delete;
  rw_mutex& operator=(const rw_mutex&) = delete;

  // Exclusive (writer) side.
  void lock(const weft::source_location& where = weft::source_location::current()) {
    if (WEFT_TSAN || WEFT_UNLIKELY(detail::attention.load(std::memory_order_relaxed) != 0))
      return lock_observed(where);
    // Take turns with other writers (the inner mutex's fast path), then
    // announce the pending writer to readers; r readers hold the lock now.
    std::int32_t unlocked = 0;
    if (!w_.state_.compare_exchange_strong(unlocked, 1, std::memory_order_acquire, std::memory_order_relaxed))
      w_.lock_slow(detail::wait_reason::rw_lock, this, where);
    const std::int32_t r = reader_count_.fetch_sub(max_readers, std::memory_order_acq_rel);
    if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0) lock_wait(where);
  }
  bool try_lock(const weft::source_location& where = weft::source_location::current());
  void unlock() {
    if (WEFT_TSAN || WEFT_UNLIKELY(detail::attention.load(std::memory_order_relaxed) != 0))
      return unlock_observed();
    // Announce to readers that no writer is active; r readers arrived behind us.
    const std::int32_t r = reader_count_.fetch_add(max_readers, std::memory_order_acq_rel) + max_readers;
    if (WEFT_UNLIKELY(r != 0)) return unlock_slow(r);  // readers to release, or misuse
    // Let other writers in.
    const std::int32_t left = w_.state_.fetch_sub(1, std::memory_order_release) - 1;
    if (left != 0) inner_unlock_slow(left);
  }

  // Shared (reader) side.
  void lock_shared(const weft::source_location& where = weft::source_location::current()) {
    if (WEFT_TSAN || WEFT_UNLIKELY(detail::attention.load(std::memory_order_relaxed) != 0))
      return lock_shared_observed(where);
    // Negative: a writer is pending; we are counted in already.
    if (WEFT_UNLIKELY(reader_count_.fetch_add(1, std::memory_order_acq_rel) + 1 < 0)) lock_shared_wait(where);
  }
  bool try_lock_shared(const weft::source_location& where = weft::source_location::current());
  void unlock_shared() {
    if (WEFT_TSAN || WEFT_UNLIKELY(detail::attention.load(std::memory_order_relaxed) != 0))
      return unlock_shared_observed();
    // Negative: a writer is pending (or misuse).
    const std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if (WEFT_UNLIKELY(r < 0)) unlock_shared_slow(r);
  }

 private:
  // With the interleaving points, edges and resource records.
  void lock_observed(const weft::source_location& where);
  void unlock_observed();
  void lock_shared_observed(const weft::source_location& where);
  void unlock_shared_observed();
  // Out-of-line parts of the fast paths: park until the readers the pending
  // writer waits for have left / until the writer ahead has unlocked.
  void lock_wait(const weft::source_location& where);
  void lock_shared_wait(const weft::source_location& where);
  // After the fast unlock_shared left reader_count_ at r < 0: misuse (undo and
  // panic) or a pending writer (maybe the last reader it waits for).
  void unlock_shared_slow(std::int32_t r);
  // After the fast unlock added max_readers giving r != 0: misuse (undo and
  // panic), or release the r readers that queued behind us, then unlock w_.
  void unlock_slow(std::int32_t r);
  // The inner mutex's unlock found waiters (left: its state after the unlock).
  void inner_unlock_slow(std::int32_t left) noexcept;
  void unlock_writer_state();

  mutex w_;  // held by the writer that holds or waits for the lock
  std::atomic<std::uint32_t> writer_sem_{0};
  std::atomic<std::uint32_t> reader_sem_{0};
  std::atomic<std::int32_t> reader_count_{0};
  std::atomic<std::int32_t> reader_wait_{0};
};

}  // namespace weft
