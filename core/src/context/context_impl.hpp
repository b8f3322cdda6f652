// The context tree's nodes, shared by context.cpp and the primitives that wait
// on a context without a channel (semaphore.cpp: cancel hooks).
//
// Ownership: a node owns its parent (shared_ptr), never its children, so a
// tree is kept alive from its leaves. A cancel node's parent keeps raw links to
// its active cancel children, removed by the child when it is cancelled or
// destroyed. An armed deadline timer holds its node (the timer's keepalive);
// the scheduler drops that reference once the timer fired or was stopped.
//
// Locking (the same order as Go's context.go): a cancel node's `lock` guards its
// err, its child list, its hooks and its timer; the sibling links and
// `registered` of a child are guarded by the *parent's* lock. Locks are taken
// parent before child, never the reverse: cancelling walks down the tree holding
// each ancestor's lock; a child detaching from its parent takes only the
// parent's lock, after releasing its own. Nothing that blocks, parks or is an
// interleaving point runs under these locks (under the explorer one thread runs
// every goroutine, so switching away while holding a spin lock would stall it):
// done channels are therefore closed after every lock is released, which is why
// err() may turn non-empty an instant before done() closes, never after.
//
// The done channel is made on the first done() call, as Go's is: a context
// that nobody waits on (with_cancel + cancel, the common case) never allocates
// or closes one. done() after cancel returns a channel closed once and for all
// (Go's closedchan). Edges, as Go's atomic.Value holding the channel gives
// them: publishing the channel releases `done_slot`, every done() acquires it,
// and the done() that publishes the closed channel first acquires the cancel.
#pragma once

#include <any>
#include <atomic>
#include <memory>
#include <optional>
#include "weft/source_location.hpp"
#include <string>
#include <vector>

#include "runtime/lock.hpp"
#include "weft/chan.hpp"
#include "weft/context.hpp"
#include "weft/detail/kernel.hpp"
#include "weft/error.hpp"

namespace weft::detail {

class scheduler;
struct cancel_ctx;

struct ctx_node : std::enable_shared_from_this<ctx_node> {
  enum class kind : std::uint8_t { background, todo, cancel, value };

  ctx_node(kind k, std::shared_ptr<ctx_node> parent);
  virtual ~ctx_node() = default;
  ctx_node(const ctx_node&) = delete;
  ctx_node& operator=(const ctx_node&) = delete;

  const kind k;
  const std::shared_ptr<ctx_node> parent;
  // The nearest cancel node at or above this one (null: cannot be cancelled).
  // Kept alive by the parent chain.
  cancel_ctx* canceller = nullptr;
  std::optional<time_point> deadline;
  // Value nodes only.
  std::string key;
  std::any value;
};

// Run under the cancelled context's lock, before its done channel is closed:
// must not block, park, allocate much or reach an interleaving point. It may
// take a lock that is never held while taking a context lock, and ready() a
// goroutine. Lives wherever its owner puts it (a parked goroutine's stack);
// ctx_remove_hook guarantees the hook is not running once it returns.
struct cancel_hook {
  void (*fn)(cancel_hook* self, const error& err) noexcept = nullptr;
  cancel_hook* prev = nullptr;
  cancel_hook* next = nullptr;
  cancel_ctx* ctx = nullptr;
  bool linked = false;  // guarded by ctx->lock
};

struct cancel_ctx final : ctx_node {
  cancel_ctx(std::shared_ptr<ctx_node> parent, std::optional<time_point> own_deadline);
  ~cancel_ctx() override;

  // Cancel this node and its subtree with e (no-op if already cancelled);
  // detach from the parent if remove_from_parent. An interleaving point.
  void cancel(bool remove_from_parent, const error& e);
  // Register with the nearest cancellable ancestor, or cancel at once if it
  // already is.
  void propagate();
  // Arm the deadline timer (lock not held). Requires a goroutine.
  void arm(const weft::source_location& site);

  struct closing {
    chan<unit> done;                 // nil when nobody asked for it: nothing to close
    std::shared_ptr<ctx_node> keep;  // null for a node being destroyed
  };
  // Requires the parent's lock when called for a child (lock order).
  void cancel_tree(const error& e, std::vector<closing>& out) noexcept;
  void unlink_from_parent() noexcept;  // requires parent_canceller->lock

  // done(): the channel, made (or, once cancelled, the closed one taken) on
  // first use. Out of line.
  recv_chan<unit> make_done();

  spin_lock lock;
  error err;                               // guarded by lock; set once
  std::atomic<bool> cancelled{false};      // err is set (lock-free fast path for err())
  // Written once under lock, then done_ready is set and it never changes; the
  // per-node channel is closed once, after err is set.
  chan<unit> done_slot;
  std::atomic<bool> done_ready{false};
  cancel_ctx* const parent_canceller;      // the nearest cancel node above (may be null)
  cancel_ctx* first_child = nullptr;       // guarded by lock
  cancel_ctx* prev_sib = nullptr;          // guarded by parent_canceller->lock
  cancel_ctx* next_sib = nullptr;          // guarded by parent_canceller->lock
  bool registered = false;                 // guarded by parent_canceller->lock
  cancel_hook* hooks = nullptr;            // guarded by lock

  struct deadline_timer : timer {
    cancel_ctx* owner_ctx = nullptr;
  };
  deadline_timer tm;
  bool timer_armed = false;                // guarded by lock
  scheduler* sched = nullptr;              // fire() spawns the cancelling goroutine here
  weft::source_location site{};
};

struct ctx_access {
  static const std::shared_ptr<ctx_node>& node(const weft::context& c) noexcept { return c.n_; }
  static weft::context make(std::shared_ptr<ctx_node> n) noexcept { return weft::context(std::move(n)); }
  static weft::cancel_func make_cancel(std::shared_ptr<ctx_node> n) noexcept { return weft::cancel_func(std::move(n)); }
};

enum class hook_result { not_cancellable, added, already_cancelled };
// Run h->fn when ctx is cancelled. already_cancelled: h was not added (call
// ctx.err() for the error). Takes ctx's lock: never call it holding a lock that
// a hook takes.
hook_result ctx_add_hook(const weft::context& ctx, cancel_hook* h) noexcept;
// After it returns h is not linked and not running. Same locking rule.
void ctx_remove_hook(cancel_hook* h) noexcept;

}  // namespace weft::detail
