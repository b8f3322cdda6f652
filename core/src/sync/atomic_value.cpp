// weft::atomic_value's type-erased core: an atomic pointer to a node holding
// the shared_ptr, read under hazard slots (weft/detail/hazard.hpp). A
// replaced node is freed by hazard_retire, outside the runtime, as soon as no
// slot names it (T's destructor may be arbitrary).
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

void delete_node(void* p) { delete static_cast<atomic_value_node*>(p); }

atomic_value_node* node_of(const void* p) { return static_cast<atomic_value_node*>(const_cast<void*>(p)); }

}  // namespace

atomic_value_base::~atomic_value_base() {
  // A borrow may outlive the atomic_value: the node goes the way of any
  // replaced one.
  if (const void* n = cur_.load(std::memory_order_relaxed)) hazard_retire(node_of(n), &delete_node);
}

std::shared_ptr<const void> atomic_value_base::load() const noexcept {
  // The node is bookkeeping: TSan sees only the caller's acquire, after.
  runtime_section rs;
  const hazard_borrowed h = hazard_borrow(cur_);
  std::shared_ptr<const void> v;
  if (h.node != nullptr) v = node_of(h.node)->value;
  hazard_end(h.hold, /*sticky=*/false);
  return v;
}

void atomic_value_base::store(std::shared_ptr<const void> v, const void* key) {
  auto* fresh = new atomic_value_node{std::move(v)};
  hb_release(key);
  if (const void* old = cur_.exchange(fresh, std::memory_order_seq_cst)) hazard_retire(node_of(old), &delete_node);
}

std::shared_ptr<const void> atomic_value_base::exchange(std::shared_ptr<const void> v, const void* key) {
  auto* fresh = new atomic_value_node{std::move(v)};
  hb_release(key);
  const void* old = cur_.exchange(fresh, std::memory_order_seq_cst);
  if (old == nullptr) return {};
  std::shared_ptr<const void> previous = node_of(old)->value;  // still ours: not yet retired
  hazard_retire(node_of(old), &delete_node);
  return previous;
}

bool atomic_value_base::compare_exchange(const void* expected, std::shared_ptr<const void> desired,
                                         const void* key) {
  // Held, n cannot be freed and its address reused before the exchange
  // below: no ABA.
  const hazard_borrowed h = hazard_borrow(cur_);
  const void* n = h.node;
  bool same;
  {
    runtime_section rs;  // bookkeeping, as in load
    same = (n != nullptr ? node_of(n)->value.get() : nullptr) == expected;
  }
  if (!same) {
    hazard_end(h.hold, /*sticky=*/false);
    return false;
  }
  auto* fresh = new atomic_value_node{std::move(desired)};
  hb_release(key);
  const bool swapped = cur_.compare_exchange_strong(n, fresh, std::memory_order_seq_cst);
  hazard_end(h.hold, /*sticky=*/false);
  if (!swapped) {
    delete fresh;  // a store came between: the caller compares again
    return false;
  }
  if (n != nullptr) hazard_retire(node_of(n), &delete_node);
  return true;
}

void atomic_value_nil(const char* op) {
  throw panic_error(std::string("sync/atomic: ") + op + " of nil value into Value");
}

}  // namespace weft::detail
