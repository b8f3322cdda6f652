// Execution contexts and their stacks: the one place that switches stacks.
//
// A context is a suspended stack (Boost.Context's fcontext: the cheapest switch
// Boost offers, ~5 ns here). switch_context(from, to, rec) saves `from`, lands in
// `to`, and there — before anything else — stores from's saved pointer and runs
// rec->action. That action is how a goroutine is parked: its unlock runs only
// once its stack is no longer in use, so a waker on another worker can resume it
// at once (Go's gopark/unlockf, done without an extra hop through a scheduler
// stack).
//
// Per switch we also carry what is per-"thread" but must be per-goroutine: the
// C++ exception-handling globals (a goroutine may park inside a catch block and
// resume on another worker), and the sanitizers' notion of the current stack.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <vector>

#include "runtime/lock.hpp"
#include "runtime/sanitizers.hpp"

namespace weft::detail {

struct stack {
  void* mapping = nullptr;  // what mmap returned (guard page first, if any)
  std::size_t mapping_size = 0;
  void* bottom = nullptr;  // lowest usable byte; holds the canary
  std::size_t size = 0;    // usable bytes
  bool guarded = false;

  void* top() const noexcept { return static_cast<char*>(bottom) + size; }
  bool contains(const void* p) const noexcept {
    auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(mapping);
    return a >= b && a < b + mapping_size;
  }
  bool in_guard(const void* p) const noexcept {
    auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(mapping);
    return guarded && a >= b && a < reinterpret_cast<std::uintptr_t>(bottom);
  }
};

// Stacks of one size, mmap'd lazily (only touched pages cost memory) and kept for
// reuse. A guard page below each stack turns an overflow into a fault that the
// runtime reports by name. Each guard page costs the process two memory
// mappings, and Linux caps mappings (vm.max_map_count, 65530 by default), so
// beyond a process-wide budget stacks come without guard pages; those are
// checked at every switch instead (the saved stack pointer must lie inside the
// stack), and a one-time notice says so. A canary word would cost a second
// resident page per goroutine, which the memory target cannot afford.
class stack_pool {
 public:
  explicit stack_pool(std::size_t stack_size);
  ~stack_pool();
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;

  stack allocate();  // throws std::bad_alloc when the system is out of memory
  void release(stack s) noexcept;
  // Unmap now rather than keep for reuse.
  void discard(stack s) noexcept { unmap(s); }
  std::size_t stack_size() const noexcept { return size_; }

 private:
  void unmap(stack& s) noexcept;
  std::size_t size_;
  spin_lock lock_;
  std::vector<stack> free_;
};

struct switch_record;

struct context {
  // boost::context::detail::fcontext_t: where a switched-out context's
  // registers are saved, at the top of what its stack uses. Atomic (relaxed)
  // only so that the scheduler may read it from another thread as a prefetch
  // hint (saved_stack_hint); the context's owner alone writes it.
  std::atomic<void*> fctx{nullptr};
  void (*entry)(void*) = nullptr;  // for a context that has not started yet
  void* entry_arg = nullptr;
  void* eh_globals[2] = {nullptr, nullptr};  // saved __cxa_eh_globals
  const void* stack_lo = nullptr;  // lowest usable address; null for a thread's own stack
#if WEFT_TSAN
  void* tsan_fiber = nullptr;
  int tsan_depth = 0;  // runtime_section nesting of this context (sanitizers.hpp)
#endif
#if WEFT_ASAN
  const void* asan_bottom = nullptr;
  std::size_t asan_size = 0;
  void* asan_fake_stack = nullptr;
#endif
};

// Where a switched-out context's registers lie (null while it runs): a hint
// for prefetching, readable from any thread while the context lives.
inline const void* saved_stack_hint(const context& c) noexcept { return c.fctx.load(std::memory_order_relaxed); }

// What the landing side of a switch must do. Lives with the switching worker.
struct switch_record {
  context* from = nullptr;
  context* to = nullptr;
  // This thread's C++ exception globals (__cxa_get_globals()), looked up on the
  // first switch: otherwise every switch pays a PLT call and a dynamic-TLS
  // lookup. A record belongs to one thread.
  void* eh_globals = nullptr;
  void (*action)(void*) noexcept = nullptr;
  void* arg = nullptr;
};

// Prepare `ctx` to start running entry(arg) on stack `s` at its first switch-in.
// entry must never return.
void make_context(context* ctx, const stack& s, void (*entry)(void* arg), void* arg);
// Release what make_context acquired for a context that will never run again.
void destroy_context(context* ctx) noexcept;
// Adopt the calling thread's own stack as a context (a worker's scheduler loop).
void adopt_thread_context(context* ctx);
// Switch; returns when some context switches back to `from`.
void switch_context(context* from, context* to, switch_record* rec);
// Called when a context switched out with its stack pointer below its stack;
// implemented by the runtime's fatal-error reporter. Does not return.
[[noreturn]] void report_stack_overflow(context* ctx, const void* sp) noexcept;

}  // namespace weft::detail
