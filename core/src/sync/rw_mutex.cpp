// weft::rw_mutex: Go's sync.RWMutex (sync/rwmutex.go) on the runtime
// semaphore. The counters are described in rw_mutex.hpp.
//
// Happens-before, as Go's race annotations: unlock releases reader_sem_,
// which lock_shared and lock acquire; unlock_shared releases writer_sem_,
// which lock acquires. The counters themselves are runtime bookkeeping
// (runtime_section), so TSan sees readers as unordered with each other.
//
// The fast paths are inline in rw_mutex.hpp (Go's atomics, nobody
// listening); the *_observed functions here are the same steps with the
// interleaving points, edges and resource records, and share the waiting and
// waking parts with the fast paths.
#include "weft/rw_mutex.hpp"

#include "runtime/sanitizers.hpp"
#include "sync/sema.hpp"
#include "weft/panic.hpp"

namespace weft {

using detail::runtime_section;
using detail::sema_unwound;

namespace {
constexpr const char* runlock_misuse = "sync: RUnlock of unlocked RWMutex";
constexpr const char* unlock_misuse = "sync: Unlock of unlocked RWMutex";

// reader_count_ values that hold no read lock: nobody, or a writer alone.
constexpr bool no_reader(std::int32_t c) noexcept { return c == 0 || c == -rw_mutex::max_readers; }
}  // namespace

// --- readers ---

void rw_mutex::lock_shared_observed(const weft::source_location& where) {
  detail::sched_point(detail::op::rw_rlock, this);
  bool writer_pending;
  {
    runtime_section rs;
    writer_pending = reader_count_.fetch_add(1, std::memory_order_acq_rel) + 1 < 0;
  }
  if (writer_pending) return lock_shared_wait(where);
  detail::hb_acquire(&reader_sem_);
  detail::resource_acquired(this, detail::resource_kind::rw_read, where);
}

void rw_mutex::lock_shared_wait(const weft::source_location& where) {
  // Counted in already: the writer's unlock releases one token per reader
  // that arrived behind it.
  sema_unwound how = sema_unwound::queued;
  try {
    detail::sema_acquire(&reader_sem_, false, detail::wait_reason::rw_rlock, this, where, &how);
  } catch (...) {
    // Teardown: take back our count (still queued), or give back the read
    // lock the writer's unlock granted us.
    runtime_section rs;
    std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if (how != sema_unwound::queued && r < 0 &&
        reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0)
      detail::sema_release(&writer_sem_, /*handoff=*/true);
    throw;
  }
  detail::hb_acquire(&reader_sem_);
  detail::resource_acquired(this, detail::resource_kind::rw_read, where);
}

bool rw_mutex::try_lock_shared(const weft::source_location& where) {
  detail::sched_point(detail::op::rw_rlock, this);
  {
    runtime_section rs;
    std::int32_t c = reader_count_.load(std::memory_order_relaxed);
    for (;;) {
      if (c < 0) return false;  // a writer holds or waits
      if (reader_count_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                              std::memory_order_relaxed))
        break;
    }
  }
  detail::hb_acquire(&reader_sem_);
  detail::resource_acquired(this, detail::resource_kind::rw_read, where);
  return true;
}

void rw_mutex::unlock_shared_slow(std::int32_t r) {
  runtime_section rs;
  // Nobody held a read lock: count 0, or a writer alone (Go's rUnlockSlow).
  if (r + 1 == 0 || r + 1 == -max_readers) {
    reader_count_.fetch_add(1, std::memory_order_relaxed);
    throw panic_error(runlock_misuse);
  }
  // A writer is pending: the last of the readers it waits for wakes it.
  if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0)
    detail::sema_release(&writer_sem_, /*handoff=*/true);
}

void rw_mutex::unlock_shared_observed() {
  detail::sched_point(detail::op::rw_runlock, this);
  {
    runtime_section rs;
    if (no_reader(reader_count_.load(std::memory_order_relaxed))) throw panic_error(runlock_misuse);
  }
  detail::resource_released(this, detail::resource_kind::rw_read);
  detail::hb_release(&writer_sem_);
  runtime_section rs;
  std::int32_t c = reader_count_.load(std::memory_order_relaxed);
  do {
    if (no_reader(c)) throw panic_error(runlock_misuse);  // raced with another unlock_shared
  } while (!reader_count_.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel,
                                                std::memory_order_relaxed));
  // A writer is pending: the last of the readers it waits for wakes it.
  if (c - 1 < 0 && reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0)
    detail::sema_release(&writer_sem_, /*handoff=*/true);
}

// --- writers ---

void rw_mutex::lock_observed(const weft::source_location& where) {
  detail::sched_point(detail::op::rw_lock, this);
  // First, take turns with other writers.
  w_.lock_impl(detail::wait_reason::rw_lock, this, where);
  bool wait;
  {
    runtime_section rs;
    // Announce the pending writer to readers; r readers hold the lock now.
    std::int32_t r = reader_count_.fetch_sub(max_readers, std::memory_order_acq_rel);
    wait = r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0;
  }
  if (wait) return lock_wait(where);
  detail::hb_acquire(&reader_sem_);
  detail::hb_acquire(&writer_sem_);
  detail::resource_acquired(this, detail::resource_kind::rw_write, where);
}

void rw_mutex::lock_wait(const weft::source_location& where) {
  sema_unwound how = sema_unwound::queued;
  try {
    detail::sema_acquire(&writer_sem_, false, detail::wait_reason::rw_lock, this, where, &how);
  } catch (...) {
    // Teardown: withdraw (the readers we waited for no longer report to
    // us), or, if the last reader already let us in, unlock.
    if (how == sema_unwound::queued) {
      runtime_section rs;
      reader_wait_.store(0, std::memory_order_relaxed);
    }
    unlock_writer_state();
    throw;
  }
  detail::hb_acquire(&reader_sem_);
  detail::hb_acquire(&writer_sem_);
  detail::resource_acquired(this, detail::resource_kind::rw_write, where);
}

bool rw_mutex::try_lock(const weft::source_location& where) {
  detail::sched_point(detail::op::rw_lock, this);
  if (!w_.try_lock_impl()) return false;
  {
    runtime_section rs;
    std::int32_t c = 0;
    if (!reader_count_.compare_exchange_strong(c, -max_readers, std::memory_order_acq_rel,
                                               std::memory_order_relaxed)) {
      (void)w_.unlock_impl();
      return false;
    }
  }
  detail::hb_acquire(&reader_sem_);
  detail::hb_acquire(&writer_sem_);
  detail::resource_acquired(this, detail::resource_kind::rw_write, where);
  return true;
}

void rw_mutex::unlock_slow(std::int32_t r) {
  {
    runtime_section rs;
    if (r >= max_readers) {
      // It was not write-locked: take the add back, panic.
      reader_count_.fetch_sub(max_readers, std::memory_order_relaxed);
      throw panic_error(unlock_misuse);
    }
    detail::sema_release_n(&reader_sem_, static_cast<std::uint32_t>(r), /*handoff=*/false);
  }
  const std::int32_t left = w_.state_.fetch_sub(1, std::memory_order_release) - 1;
  if (left != 0) inner_unlock_slow(left);
}

void rw_mutex::inner_unlock_slow(std::int32_t left) noexcept {
  // The inner mutex was not locked: only a corrupted state gets here.
  if (((left + 1) & 1) == 0) detail::sync_fatal("sync: inconsistent RWMutex state");
  w_.unlock_slow(left);
}

void rw_mutex::unlock_observed() {
  detail::sched_point(detail::op::rw_unlock, this);
  {
    runtime_section rs;
    if (reader_count_.load(std::memory_order_relaxed) >= 0) throw panic_error(unlock_misuse);
  }
  detail::resource_released(this, detail::resource_kind::rw_write);
  detail::hb_release(&reader_sem_);
  unlock_writer_state();
}

void rw_mutex::unlock_writer_state() {
  runtime_section rs;
  // Announce to readers that no writer is active; r readers arrived behind us.
  std::int32_t c = reader_count_.load(std::memory_order_relaxed);
  do {
    if (c >= 0) throw panic_error(unlock_misuse);  // raced with another unlock
  } while (!reader_count_.compare_exchange_weak(c, c + max_readers, std::memory_order_acq_rel,
                                                std::memory_order_relaxed));
  const std::int32_t r = c + max_readers;
  detail::sema_release_n(&reader_sem_, static_cast<std::uint32_t>(r), /*handoff=*/false);
  // Let other writers in.
  if (!w_.unlock_impl()) detail::sync_fatal("sync: inconsistent RWMutex state");
}

}  // namespace weft
