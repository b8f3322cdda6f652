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
  void lock(const weft::source_location& where = weft::source_location::current());
  bool try_lock(const weft::source_location& where = weft::source_location::current());
  void unlock();

  // Shared (reader) side.
  void lock_shared(const weft::source_location& where = weft::source_location::current());
  bool try_lock_shared(const weft::source_location& where = weft::source_location::current());
  void unlock_shared();

 private:
  void unlock_writer_state();

  mutex w_;  // held by the writer that holds or waits for the lock
  std::atomic<std::uint32_t> writer_sem_{0};
  std::atomic<std::uint32_t> reader_sem_{0};
  std::atomic<std::int32_t> reader_count_{0};
  std::atomic<std::int32_t> reader_wait_{0};
};

}  // namespace weft
