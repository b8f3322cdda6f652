// The context tree: see context_impl.hpp for ownership and lock order.
#include "context/context_impl.hpp"

#include <utility>

#include "runtime/g.hpp"
#include "runtime/sanitizers.hpp"
#include "runtime/scheduler.hpp"
#include "weft/panic.hpp"
#include "weft/time.hpp"

namespace weft {

namespace detail {

namespace {

[[noreturn]] void nil_parent() { throw panic_error("cannot create context from nil parent"); }

// The roots live for the whole process (never destroyed, so usable from any
// static destructor) and their handles own nothing: a shared_ptr aliasing a
// root with no control block, so copying background() or holding it as a
// parent costs no atomic operation, as a Go interface value would not.
template <ctx_node::kind K>
const std::shared_ptr<ctx_node>& immortal_root() {
  alignas(ctx_node) static unsigned char storage[sizeof(ctx_node)];
  static const std::shared_ptr<ctx_node> handle(std::shared_ptr<ctx_node>(),
                                                ::new (storage) ctx_node(K, nullptr));
  return handle;
}

const std::shared_ptr<ctx_node>& root(ctx_node::kind k) {
  return k == ctx_node::kind::todo ? immortal_root<ctx_node::kind::todo>()
                                   : immortal_root<ctx_node::kind::background>();
}

// The deadline timer fired (inside the scheduler, under its timer lock):
// cancelling closes channels, an interleaving point, so a goroutine of its own
// does it, as Go's time.AfterFunc does for context.WithDeadline.
void fire_deadline(timer* t, time_point) noexcept {
  cancel_ctx* c = static_cast<cancel_ctx::deadline_timer*>(t)->owner_ctx;
  // Alive: the armed timer's keepalive holds it until fire returns.
  auto keep = std::static_pointer_cast<cancel_ctx>(c->shared_from_this());
  try {
    c->sched->spawn(task([keep] {
                      hb_acquire(&keep->tm);  // with_deadline happens before its expiry (Go's timers do the same)
                      keep->cancel(true, deadline_exceeded);
                    }),
                    c->site, nullptr);
  } catch (...) {
    // No memory for a goroutine: the context stays active until cancelled by hand.
  }
}

void discard_deadline(timer*) noexcept {}

// Go's closedchan: what done() returns once cancelled if nobody asked before.
// Made and closed before main, outside every goroutine, so that its close is
// no interleaving point of any run.
const chan<unit> closed_chan = [] {
  chan<unit> c = make_chan<unit>();
  c.close();
  return c;
}();

}  // namespace

ctx_node::ctx_node(kind k_, std::shared_ptr<ctx_node> parent_) : k(k_), parent(std::move(parent_)) {
  if (parent != nullptr) {
    canceller = parent->canceller;
    deadline = parent->deadline;
  }
}

cancel_ctx::cancel_ctx(std::shared_ptr<ctx_node> parent_, std::optional<time_point> own_deadline)
    : ctx_node(kind::cancel, std::move(parent_)), parent_canceller(canceller) {
  canceller = this;
  if (own_deadline) deadline = own_deadline;
  tm.owner_ctx = this;
  tm.fire = &fire_deadline;
  tm.discard = &discard_deadline;
}

cancel_ctx::~cancel_ctx() {
  // Destroyed while active (nobody called cancel): leave the parent's list, so
  // it does not keep a dangling link. An armed timer would have kept us alive.
  if (parent_canceller != nullptr) {
    runtime_section rs;
    lock_guard l(parent_canceller->lock);
    if (registered) unlink_from_parent();
  }
}

void cancel_ctx::unlink_from_parent() noexcept {
  if (prev_sib != nullptr)
    prev_sib->next_sib = next_sib;
  else
    parent_canceller->first_child = next_sib;
  if (next_sib != nullptr) next_sib->prev_sib = prev_sib;
  prev_sib = next_sib = nullptr;
  registered = false;
}

void cancel_ctx::propagate() {
  cancel_ctx* p = parent_canceller;
  if (p == nullptr) return;  // nothing above can cancel us
  error parent_err;
  {
    runtime_section rs;
    lock_guard l(p->lock);
    if (p->err) {
      parent_err = p->err;
    } else {
      prev_sib = nullptr;
      next_sib = p->first_child;
      if (next_sib != nullptr) next_sib->prev_sib = this;
      p->first_child = this;
      registered = true;
    }
  }
  if (parent_err) cancel(false, parent_err);
}

void cancel_ctx::arm(const weft::source_location& where) {
  g* self = require_current("weft::with_deadline");
  sched = self->sched;
  site = where;
  tm.when = *deadline;
  runtime_section rs;
  lock_guard l(lock);
  if (err) return;  // the parent was already cancelled
  rt_hb_release(&tm);  // acquired by the goroutine that cancels on expiry
  timer_start(&tm, shared_from_this());
  timer_armed = true;
}

void cancel_ctx::cancel_tree(const error& e, std::vector<closing>& out) noexcept {
  lock_guard l(lock);
  if (err) return;
  rt_hb_release(this);  // cancel happens before an err() that sees it
  err = e;
  cancelled.store(true, std::memory_order_release);
  // Only a channel someone asked for needs closing; a node whose armed timer
  // we are about to stop needs holding (see below).
  const bool close_done = done_ready.load(std::memory_order_relaxed);
  if (close_done || timer_armed)
    out.push_back({close_done ? done_slot : chan<unit>{}, weak_from_this().lock()});
  if (timer_armed) {
    // Its keepalive may be the last other reference; `out` holds one more (a
    // node being destroyed has no armed timer: the keepalive would hold it).
    timer_armed = false;
    timer_stop(&tm);
  }
  while (cancel_hook* h = hooks) {
    hooks = h->next;
    h->prev = h->next = nullptr;
    h->linked = false;
    h->fn(h, e);
  }
  while (cancel_ctx* c = first_child) {
    first_child = c->next_sib;
    if (first_child != nullptr) first_child->prev_sib = nullptr;
    c->prev_sib = c->next_sib = nullptr;
    c->registered = false;
    c->cancel_tree(e, out);  // parent (this) locked before child
  }
}

recv_chan<unit> cancel_ctx::make_done() {
  // Allocate outside the lock (nothing but arithmetic runs under it).
  chan<unit> fresh;
  if (!cancelled.load(std::memory_order_acquire)) fresh = make_chan<unit>();
  chan<unit> result;
  {
    runtime_section rs;
    lock_guard l(lock);
    if (!done_ready.load(std::memory_order_relaxed)) {
      if (err) {
        rt_hb_acquire(this);  // the cancel, passed on to every later done()
        done_slot = closed_chan;
      } else {
        done_slot = fresh ? std::move(fresh) : make_chan<unit>();
      }
      rt_hb_release(&done_slot);
      done_ready.store(true, std::memory_order_release);
    }
    result = done_slot;
  }
  rt_hb_acquire(&done_slot);
  return result;
}

void cancel_ctx::cancel(bool remove_from_parent, const error& e) {
  sched_point(op::ctx_cancel, this);
  std::vector<closing> out;
  {
    runtime_section rs;
    cancel_tree(e, out);
    if (remove_from_parent && parent_canceller != nullptr) {
      lock_guard l(parent_canceller->lock);
      if (registered) unlink_from_parent();
    }
  }
  // Each node's done is closed by the one cancel that set its err.
  for (closing& c : out)
    if (c.done) c.done.close();
  // Dropping the nodes held is bookkeeping too: this goroutine reached them
  // through parents' child lists, which TSan does not see, so their reference
  // counts must not be seen either.
  runtime_section rs;
  out.clear();
}

hook_result ctx_add_hook(const weft::context& ctx, cancel_hook* h) noexcept {
  const auto& n = ctx_access::node(ctx);
  if (n == nullptr || n->canceller == nullptr) return hook_result::not_cancellable;
  cancel_ctx* c = n->canceller;
  runtime_section rs;
  lock_guard l(c->lock);
  if (c->err) return hook_result::already_cancelled;
  h->ctx = c;
  h->prev = nullptr;
  h->next = c->hooks;
  if (h->next != nullptr) h->next->prev = h;
  c->hooks = h;
  h->linked = true;
  return hook_result::added;
}

void ctx_remove_hook(cancel_hook* h) noexcept {
  cancel_ctx* c = h->ctx;
  if (c == nullptr) return;
  runtime_section rs;
  lock_guard l(c->lock);
  if (!h->linked) return;  // already run (under this lock, so finished)
  if (h->prev != nullptr)
    h->prev->next = h->next;
  else
    c->hooks = h->next;
  if (h->next != nullptr) h->next->prev = h->prev;
  h->prev = h->next = nullptr;
  h->linked = false;
}

std::size_t context_child_count(const weft::context& ctx) {
  const auto& n = ctx_access::node(ctx);
  if (n == nullptr || n->canceller == nullptr) return 0;
  cancel_ctx* c = n->canceller;
  runtime_section rs;
  lock_guard l(c->lock);
  std::size_t k = 0;
  for (cancel_ctx* p = c->first_child; p != nullptr; p = p->next_sib) ++k;
  return k;
}

}  // namespace detail

// ------------------------------------------------------------------ context

recv_chan<unit> context::done() const {
  if (n_ == nullptr || n_->canceller == nullptr) return {};
  detail::cancel_ctx* c = n_->canceller;
  if (!c->done_ready.load(std::memory_order_acquire)) return c->make_done();
  recv_chan<unit> d;
  {
    detail::runtime_section rs;  // the slot's copy is bookkeeping; the edge is below
    d = c->done_slot;
  }
  detail::hb_acquire(&c->done_slot);
  return d;
}

error context::err() const {
  if (n_ == nullptr || n_->canceller == nullptr) return {};
  detail::cancel_ctx* c = n_->canceller;
  detail::sched_point(detail::op::ctx_done, c);
  if (!c->cancelled.load(std::memory_order_acquire)) return {};
  error e;
  {
    detail::runtime_section rs;
    detail::lock_guard l(c->lock);
    e = c->err;
  }
  detail::hb_acquire(c);
  return e;
}

std::optional<time_point> context::deadline() const noexcept {
  return n_ != nullptr ? n_->deadline : std::nullopt;
}

std::any context::value(std::string_view key) const {
  for (const detail::ctx_node* p = n_.get(); p != nullptr; p = p->parent.get())
    if (p->k == detail::ctx_node::kind::value && p->key == key) return p->value;
  return {};
}

void cancel_func::operator()() const {
  if (node_ != nullptr) {
    static_cast<detail::cancel_ctx*>(node_.get())->cancel(true, canceled);
    return;
  }
  other_();  // std::bad_function_call when empty
}

context background() { return detail::ctx_access::make(detail::root(detail::ctx_node::kind::background)); }
context todo() { return detail::ctx_access::make(detail::root(detail::ctx_node::kind::todo)); }

namespace {

context_and_cancel finish(std::shared_ptr<detail::cancel_ctx> c) {
  context ctx = detail::ctx_access::make(c);
  return {std::move(ctx), detail::ctx_access::make_cancel(std::move(c))};
}

}  // namespace

context_and_cancel with_cancel(const context& parent) {
  const auto& p = detail::ctx_access::node(parent);
  if (p == nullptr) detail::nil_parent();
  auto c = std::make_shared<detail::cancel_ctx>(p, std::nullopt);
  c->propagate();
  return finish(std::move(c));
}

context_and_cancel with_deadline(const context& parent, time_point d, const weft::source_location& site) {
  const auto& p = detail::ctx_access::node(parent);
  if (p == nullptr) detail::nil_parent();
  if (p->deadline && *p->deadline < d) return with_cancel(parent);  // the parent's comes first anyway
  auto c = std::make_shared<detail::cancel_ctx>(p, d);
  c->propagate();
  if (d <= now()) {
    c->cancel(true, deadline_exceeded);  // already past
  } else {
    c->arm(site);
  }
  return finish(std::move(c));
}

context_and_cancel with_timeout(const context& parent, duration timeout, const weft::source_location& site) {
  if (!parent) detail::nil_parent();
  return with_deadline(parent, now() + timeout, site);
}

context with_value(const context& parent, std::string key, std::any value) {
  const auto& p = detail::ctx_access::node(parent);
  if (p == nullptr) detail::nil_parent();
  auto n = std::make_shared<detail::ctx_node>(detail::ctx_node::kind::value, p);
  n->key = std::move(key);
  n->value = std::move(value);
  return detail::ctx_access::make(std::move(n));
}

}  // namespace weft
