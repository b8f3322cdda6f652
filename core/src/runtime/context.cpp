#include "runtime/context.hpp"

#include <cxxabi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <new>

namespace weft::detail {

namespace bctx = boost::context::detail;

namespace {

std::size_t page_size() noexcept {
  static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

// Guard pages left in this process's mapping budget (see stack_pool).
std::atomic<long> guard_budget{-1};
std::once_flag guard_budget_once;

void init_guard_budget() {
  long max_maps = 65530;
  std::ifstream f("/proc/sys/vm/max_map_count");
  if (f) f >> max_maps;
  // Leave room for everything else the process maps (libraries, heaps, threads).
  guard_budget.store(std::max(0L, (max_maps - 16384) / 2), std::memory_order_relaxed);
}

bool take_guard() noexcept {
  std::call_once(guard_budget_once, init_guard_budget);
  long b = guard_budget.load(std::memory_order_relaxed);
  while (b > 0) {
    if (guard_budget.compare_exchange_weak(b, b - 1, std::memory_order_relaxed)) return true;
  }
  static std::once_flag told;
  std::call_once(told, [] {
    std::fprintf(stderr,
                 "weft: vm.max_map_count leaves no more guard pages for goroutine stacks; further "
                 "stacks are checked for overflow at each switch instead of by a guard page "
                 "(raise vm.max_map_count to keep guard pages)\n");
  });
  return false;
}

void give_guard() noexcept { guard_budget.fetch_add(1, std::memory_order_relaxed); }

// The C++ runtime's per-thread exception state: the stack of caught exceptions
// and the uncaught count. Same layout in libstdc++ and libc++abi on x86-64 and
// AArch64: a pointer and an unsigned.
constexpr std::size_t eh_globals_size = 2 * sizeof(void*);

inline void swap_eh_globals(void* g, context* from, context* to) noexcept {
  std::memcpy(from->eh_globals, g, eh_globals_size);
  std::memcpy(g, to->eh_globals, eh_globals_size);
}

// Runs first in the context switched to: finish saving `from`, then run the
// switcher's action (typically: release the lock the parked goroutine held).
inline context* land(bctx::transfer_t t) noexcept {
  auto* rec = static_cast<switch_record*>(t.data);
  context* from = rec->from;
  context* to = rec->to;
  from->fctx.store(t.fctx, std::memory_order_relaxed);
#if WEFT_ASAN
  const void* old_bottom = nullptr;
  std::size_t old_size = 0;
  __sanitizer_finish_switch_fiber(to->asan_fake_stack, &old_bottom, &old_size);
  if (from->asan_bottom == nullptr) {
    from->asan_bottom = old_bottom;
    from->asan_size = old_size;
  }
#endif
  if (from->stack_lo != nullptr && t.fctx < from->stack_lo) report_stack_overflow(from, t.fctx);
  if (rec->action != nullptr) {
    auto action = rec->action;
    rec->action = nullptr;
    action(rec->arg);
  }
  return to;
}

void trampoline(bctx::transfer_t t) noexcept {
  context* self;
  {
    // A fresh fiber starts outside any runtime section: landing is runtime work.
    runtime_section rs;
    self = land(t);
  }
  self->entry(self->entry_arg);
  std::fputs("weft: fatal error: a goroutine's context returned from its entry\n", stderr);
  std::abort();
}

#if WEFT_TSAN
// A fiber is retired while suspended inside runtime sections (a dead g waits in
// goexit for reuse): close them as that fiber, so TSan does not complain that it
// finished with ignores on.
void retire_tsan_fiber(context* ctx) noexcept {
  if (ctx->tsan_fiber == nullptr) return;
  if (ctx->tsan_depth > 0) {
    void* cur = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(ctx->tsan_fiber, 1);
    tsan_ignore_off();
    __tsan_switch_to_fiber(cur, 1);
  }
  ctx->tsan_depth = 0;
  __tsan_destroy_fiber(ctx->tsan_fiber);
  ctx->tsan_fiber = nullptr;
}
#endif

}  // namespace

stack_pool::stack_pool(std::size_t stack_size) {
  const std::size_t p = page_size();
  size_ = (std::max<std::size_t>(stack_size, 16 * 1024) + p - 1) / p * p;
}

stack_pool::~stack_pool() {
  for (auto& s : free_) unmap(s);
}

stack stack_pool::allocate() {
  {
    lock_guard l(lock_);
    if (!free_.empty()) {
      stack s = free_.back();
      free_.pop_back();
      return s;
    }
  }
  const std::size_t p = page_size();
  bool guard = take_guard();
  stack s;
  s.mapping_size = size_ + (guard ? p : 0);
  s.mapping = ::mmap(nullptr, s.mapping_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (s.mapping == MAP_FAILED) {
    if (guard) give_guard();
    throw std::bad_alloc();
  }
  if (guard && ::mprotect(s.mapping, p, PROT_NONE) != 0) {
    give_guard();
    guard = false;  // still a usable stack, one page larger
  }
  s.guarded = guard;
  s.bottom = static_cast<char*>(s.mapping) + (guard ? p : 0);
  s.size = s.mapping_size - (guard ? p : 0);
  return s;
}

void stack_pool::release(stack s) noexcept {
  {
    lock_guard l(lock_);
    if (free_.size() < 256) {
      try {
        free_.push_back(s);
        return;
      } catch (...) {
      }
    }
  }
  unmap(s);
}

void stack_pool::unmap(stack& s) noexcept {
  if (s.mapping == nullptr) return;
#if WEFT_ASAN
  // Frames that never returned leave poison behind; a later mmap of these
  // addresses (any allocator's) must not inherit it.
  __asan_unpoison_memory_region(s.bottom, s.size);
#endif
  ::munmap(s.mapping, s.mapping_size);
  if (s.guarded) give_guard();
  s = stack{};
}

void make_context(context* ctx, const stack& s, void (*entry)(void*), void* arg) {
  ctx->entry = entry;
  ctx->entry_arg = arg;
  ctx->fctx.store(bctx::make_fcontext(s.top(), s.size, &trampoline), std::memory_order_relaxed);
  ctx->eh_globals[0] = ctx->eh_globals[1] = nullptr;
  ctx->stack_lo = s.bottom;
#if WEFT_ASAN
  // A recycled stack may carry poison from frames that never returned.
  __asan_unpoison_memory_region(s.bottom, s.size);
  ctx->asan_bottom = s.bottom;
  ctx->asan_size = s.size;
  ctx->asan_fake_stack = nullptr;
#endif
#if WEFT_TSAN
  // A new goroutine is a new TSan "thread": it shares no history with the
  // goroutine that last used this stack, and that one's accesses are forgotten.
  retire_tsan_fiber(ctx);
  ctx->tsan_fiber = __tsan_create_fiber(0);
  {
    user_section u;  // an ignored region would drop the reset
    AnnotateNewMemory(__FILE__, __LINE__, s.bottom, s.size);
  }
#endif
}

void destroy_context(context* ctx) noexcept {
#if WEFT_TSAN
  retire_tsan_fiber(ctx);
#endif
  ctx->fctx.store(nullptr, std::memory_order_relaxed);
}

void adopt_thread_context(context* ctx) {
  ctx->fctx.store(nullptr, std::memory_order_relaxed);
  ctx->stack_lo = nullptr;
#if WEFT_TSAN
  ctx->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void switch_context(context* from, context* to, switch_record* rec) {
  rec->from = from;
  rec->to = to;
  void* target = to->fctx.load(std::memory_order_relaxed);
  to->fctx.store(nullptr, std::memory_order_relaxed);
  if (WEFT_UNLIKELY(rec->eh_globals == nullptr)) rec->eh_globals = abi::__cxa_get_globals();
  swap_eh_globals(rec->eh_globals, from, to);
#if WEFT_ASAN
  __sanitizer_start_switch_fiber(&from->asan_fake_stack, to->asan_bottom, to->asan_size);
#endif
#if WEFT_TSAN
  // Last thing before the jump: from here on TSan attributes accesses to `to`,
  // which (if fresh) is not inside a runtime section yet.
  __tsan_switch_to_fiber(to->tsan_fiber, 1 /* __tsan_switch_to_fiber_no_sync */);
#endif
  land(bctx::jump_fcontext(target, rec));
}

}  // namespace weft::detail
