// What the runtime tells ThreadSanitizer and AddressSanitizer. Everything here
// compiles to nothing in a build without them.
//
// TSan model (the same as Go's race detector):
//  - each goroutine incarnation is a TSan fiber; switches use no_sync, so
//    running one goroutine after another on a worker creates no ordering;
//  - the runtime's own bookkeeping (run queues, channel state, timers, internal
//    locks) runs inside a runtime_section, where TSan neither records accesses
//    nor sees synchronisation: otherwise every goroutine that happened to run a
//    scheduler path would inherit the clocks of unrelated goroutines;
//  - user-visible ordering comes only from hb_release/hb_acquire, placed at
//    exactly the edges of Go's memory model.
#pragma once

#include <cstddef>
#include <utility>

#include "weft/detail/config.hpp"

#if WEFT_TSAN
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_set_fiber_name(void* fiber, const char* name);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void AnnotateIgnoreSyncBegin(const char* file, int line);
void AnnotateIgnoreSyncEnd(const char* file, int line);
void AnnotateNewMemory(const char* file, int line, const volatile void* mem, std::size_t size);
}
#endif

#if WEFT_ASAN
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old);
void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
void __lsan_register_root_region(const void* p, std::size_t size);
void __lsan_ignore_object(const void* p);
}
#endif

namespace weft::detail {

#if WEFT_TSAN
// How deep the running context (goroutine, or a thread's own stack) is in
// runtime sections. TSan's ignore counters are per fiber and nest; tracking the
// depth ourselves lets a user_section leave every level and restore them.
int& tsan_ignore_depth() noexcept;
// The depth counter's own accesses must not be instrumented (they happen just
// outside the ignored region): these run uninstrumented, in kernel.cpp.
int tsan_depth_enter() noexcept;          // returns the depth before
int tsan_depth_leave() noexcept;          // returns the depth after
int tsan_depth_exchange(int v) noexcept;  // returns the depth before
inline void tsan_ignore_on() noexcept {
  __tsan_ignore_thread_begin();
  AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
}
inline void tsan_ignore_off() noexcept {
  AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
  __tsan_ignore_thread_end();
}
#endif

// Runtime bookkeeping: invisible to TSan. Nests.
class runtime_section {
 public:
#if WEFT_TSAN
  runtime_section() noexcept {
    if (tsan_depth_enter() == 0) tsan_ignore_on();
  }
  ~runtime_section() {
    if (tsan_depth_leave() == 0) tsan_ignore_off();
  }
#else
  runtime_section() noexcept {}
  ~runtime_section() {}
#endif
  runtime_section(const runtime_section&) = delete;
  runtime_section& operator=(const runtime_section&) = delete;
};

// The user's view from inside runtime sections, however deep: for running user
// code (element moves, destructors) and for TSan annotations, which an ignored
// region would drop.
class user_section {
 public:
#if WEFT_TSAN
  user_section() noexcept : saved_(tsan_depth_exchange(0)) {
    if (saved_ > 0) tsan_ignore_off();
  }
  ~user_section() {
    if (saved_ > 0) tsan_ignore_on();
    tsan_depth_exchange(saved_);
  }

 private:
  int saved_;
#else
  user_section() noexcept {}
  ~user_section() {}
#endif
 public:
  user_section(const user_section&) = delete;
  user_section& operator=(const user_section&) = delete;
};

}  // namespace weft::detail
