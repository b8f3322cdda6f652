// weft::atomic_value's type-erased core: a shared_ptr behind a word lock held
// only for a pointer copy or swap. No user code runs under the lock: the
// previous value is handed back to the caller, whose copy releases it after
// the unlock (T's destructor may be arbitrary).
//
// Measured on the 2-vCPU machines (docs/sync.md): faster than libstdc++ 12's
// std::atomic<std::shared_ptr>, whose load also takes a lock (a bit in the
// control-block pointer), by 10-40% and more as readers contend.
#include "weft/atomic_value.hpp"

#include <string>

#include "runtime/sanitizers.hpp"
#include "sync/word_lock.hpp"
#include "weft/panic.hpp"

namespace weft::detail {

std::shared_ptr<const void> atomic_value_base::load() const noexcept {
  runtime_section rs;
  word_lock(lock_);
  std::shared_ptr<const void> v = value_;
  word_unlock(lock_);
  return v;
}

std::shared_ptr<const void> atomic_value_base::exchange(std::shared_ptr<const void> v) noexcept {
  runtime_section rs;
  word_lock(lock_);
  value_.swap(v);
  word_unlock(lock_);
  return v;
}

bool atomic_value_base::compare_exchange(const void* expected, std::shared_ptr<const void>& desired) noexcept {
  runtime_section rs;
  word_lock(lock_);
  if (value_.get() != expected) {
    word_unlock(lock_);
    return false;
  }
  value_.swap(desired);
  word_unlock(lock_);
  return true;
}

void atomic_value_nil(const char* op) {
  throw panic_error(std::string("sync/atomic: ") + op + " of nil value into Value");
}

}  // namespace weft::detail
