// The type-erased channel: one state machine (src/chan/chan.cpp) for every
// element type. weft::chan<T> is a typed handle over it; T only appears as an
// elem_ops table (how to move and destroy a T). Keeping the logic out of the
// template keeps it in one place, under test, and out of users' compile times.
#pragma once

#include <atomic>
#include <cstddef>
#include <new>
#include "weft/source_location.hpp"
#include <type_traits>
#include <utility>

namespace weft::detail {

struct elem_ops {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src) noexcept;  // dst is raw storage
  void (*destroy)(void* p) noexcept;
};

template <class T>
inline constexpr elem_ops elem_ops_for{
    sizeof(T), alignof(T),
    [](void* dst, void* src) noexcept { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* p) noexcept { static_cast<T*>(p)->~T(); }};

// What a handle sees of a channel: its reference count, so that copying a
// handle is inline. The state machine (chan_impl) extends it in chan.cpp.
struct chan_core {
  std::atomic<std::size_t> refs{1};
};

chan_core* chan_make(const elem_ops* ops, std::size_t cap);
void chan_destroy(chan_core* c) noexcept;

// c may be null: the nil channel.
void chan_send(chan_core* c, void* elem, const weft::source_location& where);
bool chan_try_send(chan_core* c, void* elem);
// out is raw storage for one element, constructed iff the result is true (false:
// closed and drained).
bool chan_recv(chan_core* c, void* out, const weft::source_location& where);
enum class try_recv_result { received, empty, closed };
try_recv_result chan_try_recv(chan_core* c, void* out);
void chan_close(chan_core* c, const weft::source_location& where);
std::size_t chan_len(chan_core* c);
std::size_t chan_cap(const chan_core* c) noexcept;
// For timers firing inside the scheduler: never blocks, no interleaving point,
// no happens-before edge (a timer's send is not a goroutine's action).
bool chan_offer(chan_core* c, void* elem) noexcept;

struct select_case {
  chan_core* c;    // null: this case is never chosen
  void* elem;      // send: the value (moved from if chosen); recv: raw storage
  bool is_send;
  bool recv_ok;    // out: recv case chosen with a value (false: closed)
};
// Returns the chosen case's index, or n when there is a default and no case is
// ready. With no cases and no default, blocks forever.
std::size_t select_run(select_case* cases, std::size_t n, bool has_default,
                       const weft::source_location& where);

// A counted reference to a chan_core (null for the nil channel).
class chan_ref {
 public:
  chan_ref() noexcept = default;
  explicit chan_ref(chan_core* c) noexcept : c_(c) {}  // adopts one reference
  chan_ref(const chan_ref& o) noexcept : c_(o.c_) {
    if (c_ != nullptr) c_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  chan_ref(chan_ref&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  chan_ref& operator=(chan_ref o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~chan_ref() {
    if (c_ != nullptr && c_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) chan_destroy(c_);
  }
  chan_core* get() const noexcept { return c_; }
  friend bool operator==(const chan_ref& a, const chan_ref& b) noexcept { return a.c_ == b.c_; }

 private:
  chan_core* c_ = nullptr;
};

}  // namespace weft::detail
