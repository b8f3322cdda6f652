// weft::atomic_value's type-erased core: an atomic pointer to a node holding
// the shared_ptr, read under hazard slots (weft/detail/hazard.hpp). A
// replaced node is freed by hazard_retire, outside the runtime (T's
// destructor may be arbitrary): at once if no slot names it, unless the
// atomic_value was borrowed, when the scan waits (see retire below).
//
// Why not std::atomic<std::shared_ptr>: libstdc++ 12 implements it with a
// lock bit in the control-block pointer, so every load locks, and loads on
// different cores fight over that line even when nobody stores.
#include "weft/atomic_value.hpp"

#include <string>

#include "runtime/sanitizers.hpp"
#include "weft/panic.hpp"

namespace weft::detail {

namespace {

atomic_value_node* node_of(const void* p) { return static_cast<atomic_value_node*>(const_cast<void*>(p)); }

void delete_node(void* p) { free_node(node_of(p)); }

}  // namespace

constinit atomic_value_node atomic_value_empty;

// A node replaced in a borrowed atomic_value waits for a deferred scan (see
// hazard_retire): its borrowers name it no more only once they borrow again,
// and scanning for them costs each one a miss. (The mark is per atomic_value,
// not per node: a per-node mark is a write to the node's line, which every
// reader is reading just after a store.) The shared empty node is never
// retired: every caller may pass whatever it unlinked.
void atomic_value_base::retire(const void* n, bool replaced) noexcept {
  if (n == &atomic_value_empty) return;
  hazard_retire(node_of(n), &delete_node, replaced && borrowed_.load(std::memory_order_relaxed), &node_of(n)->retired);
}

void free_node(atomic_value_node* n) noexcept {
  if (n->in_block) {
    // The last reference may be this one: the block, node included, goes
    // when `last` does.
    std::shared_ptr<const void> last = std::move(n->value);
  } else {
    delete n;
  }
}

node_ptr make_node(std::shared_ptr<const void> v) { return node_ptr(new atomic_value_node{std::move(v)}); }

atomic_value_base::~atomic_value_base() {
  // A borrow may outlive the atomic_value: the node goes the way of any
  // replaced one, but with a scan now (values die with their atomic_value
  // where no borrow is still reading them).
  retire(cur_.load(std::memory_order_relaxed), /*replaced=*/false);
}

std::shared_ptr<const void> atomic_value_base::load() const noexcept {
  // The node is bookkeeping: TSan sees only the caller's acquire, after.
  runtime_section rs;
  const hazard_borrowed h = hazard_borrow(cur_);
  std::shared_ptr<const void> v = node_of(h.node)->value;
  hazard_end(h, /*sticky=*/false);
  return v;
}

void atomic_value_base::store(node_ptr fresh, const void* key) noexcept {
  hb_release(key);
  retire(cur_.exchange(fresh.release(), std::memory_order_seq_cst));
}

std::shared_ptr<const void> atomic_value_base::exchange(node_ptr fresh, const void* key) noexcept {
  hb_release(key);
  const void* old = cur_.exchange(fresh.release(), std::memory_order_seq_cst);
  // Still ours: not yet retired (the empty node's value is null).
  std::shared_ptr<const void> previous = node_of(old)->value;
  retire(old);
  return previous;
}

bool atomic_value_base::compare_exchange(const void* expected, node_ptr& fresh, const void* key) noexcept {
  // Held, n cannot be freed and its address reused before the exchange
  // below: no ABA.
  const hazard_borrowed h = hazard_borrow(cur_);
  const void* n = h.node;
  bool same;
  {
    runtime_section rs;  // bookkeeping, as in load
    same = node_of(n)->value.get() == expected;  // the empty node holds null
  }
  if (!same) {
    hazard_end(h, /*sticky=*/false);
    return false;
  }
  hb_release(key);
  const bool swapped = cur_.compare_exchange_strong(n, fresh.get(), std::memory_order_seq_cst);
  hazard_end(h, /*sticky=*/false);
  if (!swapped) return false;  // a store came between: the caller compares again
  fresh.release();
  retire(n);
  return true;
}

void atomic_value_nil(const char* op) {
  throw panic_error(std::string("sync/atomic: ") + op + " of nil value into Value");
}

}  // namespace weft::detail
