#include "runtime/scheduler.hpp"

#include <cstdio>
#include <sstream>

namespace weft::detail {

scheduler::scheduler(std::size_t stack_size, bool controlled_)
    : controlled(controlled_), stacks_(stack_size) {
  if (controlled) attention.fetch_add(1, std::memory_order_relaxed);
}

scheduler::~scheduler() {
  destroy_all_gs();
  if (controlled) attention.fetch_sub(1, std::memory_order_relaxed);
}

g* scheduler::new_g(task fn, const weft::source_location& site, g* parent, g* recycled) {
  g* gp = recycled;
  if (gp == nullptr) {
    lock_guard l(free_lock_);
    if (free_ != nullptr) {
      gp = free_;
      free_ = gp->link;
    }
  }
  bool fresh = false;
  if (gp == nullptr) {
    fresh = true;
    gp = new g;
    try {
      gp->stk = stacks_.allocate();
    } catch (...) {
      delete gp;
      throw;
    }
    gp->sched = this;
    lock_guard l(all_lock_);
    gp->all_next = all_;
    gp->all_prev = nullptr;
    if (all_ != nullptr) all_->all_prev = gp;
    all_ = gp;
  }
  gp->link = nullptr;
  // A recycled g is parked at the bottom of its own entry loop (goexit), ready
  // to run the next body: resuming it is cheaper than building a new context.
  // Only a fresh g needs one.
  if (fresh) make_context(&gp->ctx, gp->stk, &scheduler::goroutine_entry, gp);
#if WEFT_TSAN
  {
    // The previous goroutine on this g touched its closure storage as itself;
    // the new one shares no history with it.
    user_section u;
    AnnotateNewMemory(__FILE__, __LINE__, &gp->fn, sizeof gp->fn);
  }
#endif
  gp->id = next_id_.fetch_add(1, std::memory_order_relaxed);
  gp->parent_id = parent != nullptr ? parent->id : 0;
  gp->created_at = site;
  gp->fn = std::move(fn);
  gp->is_main = false;
  gp->reason = wait_reason::none;
  gp->wait_obj = nullptr;
  gp->unwind_requested = false;
  gp->abandoned = false;
  gp->abandon_fn = nullptr;
  gp->abandon_arg = nullptr;
  gp->started = false;
  gp->status.store(gstatus::runnable, std::memory_order_relaxed);
  live_.fetch_add(1, std::memory_order_relaxed);
#if WEFT_TSAN
  // The go statement happens before the goroutine starts. A fresh sync object
  // per incarnation, so a reused g inherits nothing from earlier spawners.
  gp->spawn_token = new char;
  {
    user_section u;
    __tsan_release(gp->spawn_token);
  }
#endif
  return gp;
}

void scheduler::free_g(g* gp) noexcept {
  gp->status.store(gstatus::idle, std::memory_order_relaxed);
  if constexpr (!recycle_gs) {
    {
      lock_guard l(all_lock_);
      if (gp->all_prev != nullptr)
        gp->all_prev->all_next = gp->all_next;
      else
        all_ = gp->all_next;
      if (gp->all_next != nullptr) gp->all_next->all_prev = gp->all_prev;
    }
    destroy_context(&gp->ctx);
    stacks_.discard(gp->stk);
    delete gp;
    return;
  }
  lock_guard l(free_lock_);
  gp->link = free_;
  free_ = gp;
}

void scheduler::destroy_all_gs() noexcept {
  g* p;
  {
    lock_guard l(all_lock_);
    p = all_;
    all_ = nullptr;
  }
  free_ = nullptr;
  while (p != nullptr) {
    g* next = p->all_next;
    destroy_context(&p->ctx);
    // An abandoned goroutine's frames still refer to its closure; running the
    // closure's destructors now could touch them, so it is deliberately leaked.
    // A body that never started is simply destroyed with its g.
    task* kept = p->abandoned && p->fn ? new task(std::move(p->fn)) : nullptr;
#if WEFT_ASAN
    // So is what its frames own (and the exception they were unwinding for):
    // under LeakSanitizer its stack stays mapped and is scanned as a root,
    // so that this one deliberate leak is not reported as the program's.
    if (p->abandoned) {
      if (kept != nullptr) __lsan_ignore_object(kept);
      __lsan_register_root_region(p->stk.bottom, p->stk.size);
    } else {
      stacks_.release(p->stk);
    }
#else
    (void)kept;
    stacks_.release(p->stk);
#endif
    delete p;
    p = next;
  }
}

void scheduler::goroutine_entry(void* arg) {
  g* self = static_cast<g*>(arg);
  for (;;) {
#if WEFT_TSAN
    __tsan_acquire(self->spawn_token);
#endif
    {
      runtime_section rs;
      self->started = true;
#if WEFT_TSAN
      delete static_cast<char*>(self->spawn_token);
      self->spawn_token = nullptr;
#endif
    }
    try {
      self->fn();
    } catch (const forced_unwind&) {
    } catch (...) {
      self->sched->on_panic(self, std::current_exception());
    }
    // (During teardown a closure destructor that blocks is abandoned by park.)
    self->fn.reset();  // the closure's destructors are the user's code
#if WEFT_TSAN
    // Everything a goroutine did happens before weft::run returns to its caller.
    __tsan_release(self->sched);
#endif
    runtime_section rs;
    self->sched->goroutine_finished();
    self->sched->goexit(self);
  }
}

std::string scheduler::dump_goroutines(bool include_running) const {
  std::ostringstream out;
  for_each_g([&](const g* p) {
    gstatus st = p->status.load(std::memory_order_relaxed);
    if (st == gstatus::idle || st == gstatus::dead) return;
    if (st == gstatus::running && !include_running) return;
    out << "goroutine " << p->id << " [";
    if (st == gstatus::waiting)
      out << to_string(p->reason);
    else if (st == gstatus::runnable)
      out << "runnable";
    else
      out << "running";
    out << "]:\n";
    if (st == gstatus::waiting && p->blocked_at.file_name() != nullptr && p->blocked_at.line() != 0)
      out << "    blocked at " << p->blocked_at.file_name() << ':' << p->blocked_at.line() << " in "
          << p->blocked_at.function_name() << '\n';
    if (p->is_main)
      out << "    main goroutine\n";
    else if (p->created_at.line() != 0)
      out << "    created by goroutine " << p->parent_id << " at " << p->created_at.file_name() << ':'
          << p->created_at.line() << " in " << p->created_at.function_name() << '\n';
    out << '\n';
  });
  return out.str();
}

}  // namespace weft::detail
