// The kernel's free functions: forward to the current goroutine's scheduler.
#include "weft/detail/kernel.hpp"

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "runtime/g.hpp"
#include "runtime/scheduler.hpp"
#include "weft/panic.hpp"

namespace weft::detail {

namespace {
// initial-exec: one instruction to reach it, also when weft is a shared library
// loaded at startup. Only ever read through the noinline accessors below: a
// goroutine may resume on another thread, and a compiler caching this
// variable's address across a switch would read the old thread's slot.
thread_local g* tls_g __attribute__((tls_model("initial-exec"))) = nullptr;

[[noreturn]] void outside_goroutine(const char* what) {
  throw panic_error(std::string("weft: ") + what +
                    " called outside a goroutine (call it from code running inside weft::run)");
}

// After a park or interleaving point: a scheduler tearing down asks the
// goroutine to unwind. Throwing from a destructor would terminate, so a
// goroutine already unwinding carries on instead (a later park abandons it).
inline void check_unwind(g* self) {
  if (WEFT_UNLIKELY(self->unwind_requested) && std::uncaught_exceptions() == 0) throw forced_unwind{};
}
}  // namespace

// Uninstrumented: TLS is runtime state, read by goroutines that migrate between
// threads; TSan would see a fiber reading another thread's TLS initialisation.
WEFT_NOINLINE WEFT_NO_TSAN g* current_g() noexcept { return tls_g; }

#if WEFT_TSAN
namespace {
thread_local int tls_tsan_depth = 0;  // for code on a thread's own stack
}
WEFT_NO_TSAN int& tsan_ignore_depth() noexcept {
  g* p = current_g();
  return p != nullptr ? p->ctx.tsan_depth : tls_tsan_depth;
}
WEFT_NO_TSAN int tsan_depth_enter() noexcept { return tsan_ignore_depth()++; }
WEFT_NO_TSAN int tsan_depth_leave() noexcept { return --tsan_ignore_depth(); }
WEFT_NO_TSAN int tsan_depth_exchange(int v) noexcept { return std::exchange(tsan_ignore_depth(), v); }
#endif
WEFT_NOINLINE WEFT_NO_TSAN void set_current_g(g* p) noexcept { tls_g = p; }

scheduler* current_scheduler() noexcept {
  g* p = current_g();
  return p != nullptr ? p->sched : nullptr;
}

g* current() noexcept { return current_g(); }

g* require_current(const char* what) {
  g* p = current_g();
  if (p == nullptr) outside_goroutine(what);
  return p;
}

std::uint64_t goroutine_id(const g* p) noexcept { return p != nullptr ? p->id : 0; }
std::uint64_t current_goroutine_id() noexcept { return goroutine_id(current_g()); }

const char* to_string(op o) noexcept {
  switch (o) {
#define WEFT_X(name) \
  case op::name:     \
    return #name;
    WEFT_OPS(WEFT_X)
#undef WEFT_X
  }
  return "?";
}

const char* to_string(wait_reason r) noexcept {
  switch (r) {
#define WEFT_X(name, text) \
  case wait_reason::name:  \
    return text;
    WEFT_WAIT_REASONS(WEFT_X)
#undef WEFT_X
  }
  return "?";
}

void park(wait_reason why, const void* obj, unlock_fn unlock, void* arg,
          const weft::source_location& where) {
  g* self = current_g();
  {
    runtime_section rs;
    self->reason = why;
    self->wait_obj = obj;
    self->blocked_at = where;
    // A goroutine that blocks again while being unwound stays parked; the
    // tearing-down scheduler resumes it if something readies it (say, the lock
    // it wants is released by another goroutine's unwinding) and abandons it
    // only when nothing can run any more.
    self->status.store(gstatus::waiting, std::memory_order_release);
    self->sched->park(self, unlock, arg);
    self->reason = wait_reason::none;
  }
  check_unwind(self);
}

void ready(g* p) noexcept { p->sched->ready(p); }

attention_word attention;

void sched_point_slow(op o, const void* obj) {
  g* self = current_g();
  if (self == nullptr) return;
  {
    runtime_section rs;
    if (self->sched->controlled)
      self->sched->sched_point(self, o, obj);
    else
      self->sched->preempt_point(self, o);
  }
  check_unwind(self);
}

std::uint32_t random_below(std::uint32_t n) {
  g* self = require_current("select");
  runtime_section rs;
  return self->sched->random_below(self, n);
}

// Callable from user code and from inside runtime sections alike (an ignored
// region would drop the annotation, so it steps out of any).
void hb_release_slow(const void* addr) noexcept {
#if WEFT_TSAN
  {
    user_section u;
    __tsan_release(const_cast<void*>(addr));
  }
#endif
  g* self = current_g();
  if (self != nullptr && self->sched->controlled) self->sched->hb_release(self, addr);
}

void hb_acquire_slow(const void* addr) noexcept {
#if WEFT_TSAN
  {
    user_section u;
    __tsan_acquire(const_cast<void*>(addr));
  }
#endif
  g* self = current_g();
  if (self != nullptr && self->sched->controlled) self->sched->hb_acquire(self, addr);
}

void resource_acquired_slow(const void* res, resource_kind kind, const weft::source_location& where) {
  g* self = current_g();
  if (self == nullptr || !self->sched->controlled) return;
  runtime_section rs;
  self->sched->resource_acquired(self, res, kind, where);
}

void resource_released_slow(const void* res, resource_kind kind) {
  g* self = current_g();
  if (self == nullptr || !self->sched->controlled) return;
  runtime_section rs;
  self->sched->resource_released(self, res, kind);
}

void rt_hb_release(const void* addr) noexcept { hb_release(addr); }
void rt_hb_acquire(const void* addr) noexcept { hb_acquire(addr); }

bool rt_hb_can_pass_for(const g* other) noexcept {
  // Under TSan the edge must reach TSan too, which only the fallback does.
  return !WEFT_TSAN && other->sched->controlled;
}

bool rt_hb_pass_for(g* other, const void* addr) noexcept {
  if (!rt_hb_can_pass_for(other)) return false;
  other->sched->hb_acquire(other, addr);
  other->sched->hb_release(other, addr);
  return true;
}

g* spawn(task fn, const weft::source_location& site) {
  g* self = current_g();
  if (self == nullptr) outside_goroutine("weft::go");
  runtime_section rs;
  return self->sched->spawn(std::move(fn), site, self);
}

void yield() {
  g* self = current_g();
  if (self == nullptr) return;  // a plain thread: nothing to yield to
  {
    runtime_section rs;
    self->sched->yield(self);
  }
  check_unwind(self);
}

bool spinning_pays() noexcept {
  g* self = current_g();
  return self != nullptr && self->sched->spinning_pays(self);
}

std::size_t num_goroutine() noexcept {
  scheduler* s = current_scheduler();
  return s != nullptr ? s->num_goroutine() : 0;
}

time_point now() noexcept {
  g* self = current_g();
  if (self != nullptr) return self->sched->now();
  return time_point(std::chrono::duration_cast<duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

void timer_start(timer* t, std::shared_ptr<void> keepalive) {
  g* self = current_g();
  if (self == nullptr) outside_goroutine("starting a timer");
  hb_release(t);  // starting a timer happens before it fires (as in Go)
  runtime_section rs;
  self->sched->timer_start(t, std::move(keepalive));
}

bool timer_stop(timer* t) noexcept {
  runtime_section rs;
  auto* s = static_cast<scheduler*>(t->owner.load(std::memory_order_acquire));
  if (s == nullptr) return false;
  return s->timer_stop(t);
}

bool timer_reset(timer* t, time_point when, duration period, std::shared_ptr<void> keepalive) {
  hb_release(t);
  runtime_section rs;
  auto* s = static_cast<scheduler*>(t->owner.load(std::memory_order_acquire));
  if (s == nullptr) {
    g* self = current_g();
    if (self == nullptr) outside_goroutine("resetting a timer");
    s = self->sched;
  }
  return s->timer_reset(t, when, period, std::move(keepalive));
}

void blocking_call(task fn, const weft::source_location& site) {
  g* self = current_g();
  if (self == nullptr) {
    fn();  // already on a thread of its own
    return;
  }
  sched_point(op::blocking, nullptr);
  {
    runtime_section rs;
    self->blocked_at = site;
  }
  self->sched->blocking_call(self, std::move(fn));
  check_unwind(self);
}

}  // namespace weft::detail

namespace weft {
clock::time_point clock::now() noexcept { return detail::now(); }
}  // namespace weft
