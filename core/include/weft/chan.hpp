// weft::chan<T> — Go's channels.
//
//   auto ch = weft::make_chan<int>();      // unbuffered: send and receive meet
//   auto q  = weft::make_chan<int>(8);     // buffered: FIFO of 8
//   ch.send(1);  std::optional<int> v = ch.recv();  auto [x, ok] = ch.recv2();
//   ch.close();  for (int y : q) { ... }   // range until closed and drained
//
// States: open or closed; buffer empty, partial or full; goroutines waiting to
// send or to receive (never both). The state machine is chan_impl
// (src/chan/chan_impl.hpp); this header only adds types.
//
// Semantics are Go's: a send blocks until a receiver takes the value
// (unbuffered) or there is room (buffered); a send to a waiting receiver hands
// the value straight over; receives on a closed channel drain the buffer, then
// return nullopt / {T{}, false}; send or close on a closed channel and close of
// the nil channel throw weft::panic_error with Go's message; the nil channel
// (a default-constructed handle) blocks forever.
//
// A chan<T> is a cheap shared handle (copying shares the channel). It converts
// to the directional views send_chan<T> and recv_chan<T>, never back. T must be
// movable without throwing.
#pragma once

#include <cstddef>
#include <iterator>
#include <new>
#include <optional>
#include "weft/source_location.hpp"
#include <type_traits>
#include <utility>

#include "weft/detail/chan_core.hpp"
#include "weft/unit.hpp"

namespace weft {

template <class T>
class chan;
template <class T>
class send_chan;
template <class T>
class recv_chan;

// Go's `v, ok := <-ch`.
template <class T>
struct recv_result {
  T value;
  bool ok;
};

namespace detail {

template <class T>
void check_elem_type() {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "weft::chan<T>: T must be nothrow move-constructible (a channel moves values "
                "between goroutines and cannot recover from a throwing move)");
  static_assert(!std::is_reference_v<T>, "weft::chan<T>: T must be a value type");
}

// Raw storage for one T that a receive may fill.
template <class T>
struct recv_slot {
  alignas(T) unsigned char bytes[sizeof(T)];
  void* ptr() noexcept { return bytes; }
  T& get() noexcept { return *std::launder(reinterpret_cast<T*>(bytes)); }
  std::optional<T> take() {
    std::optional<T> r(std::move(get()));
    get().~T();
    return r;
  }
};

// Range-for over a channel: each step is a receive; ends once the channel is
// closed and drained.
template <class T>
class chan_iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = T*;
  using reference = T&;
  chan_iterator() = default;
  explicit chan_iterator(chan_core* c, const weft::source_location& loc = weft::source_location::current())
      : c_(c), loc_(loc) {
    ++*this;
  }
  T& operator*() { return *v_; }
  T* operator->() { return &*v_; }
  chan_iterator& operator++() {
    recv_slot<T> s;
    if (chan_recv(c_, s.ptr(), loc_))
      v_ = s.take();
    else
      v_.reset();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const chan_iterator& a, std::default_sentinel_t) { return !a.v_.has_value(); }

 private:
  chan_core* c_ = nullptr;
  weft::source_location loc_;
  std::optional<T> v_;
};

// Operations shared by chan, send_chan and recv_chan.
template <class T>
class chan_base {
 public:
  std::size_t len() const { return chan_len(ref_.get()); }
  std::size_t cap() const noexcept { return chan_cap(ref_.get()); }
  // The nil channel?
  bool is_nil() const noexcept { return ref_.get() == nullptr; }
  explicit operator bool() const noexcept { return !is_nil(); }
  // Same channel (Go's ==).
  friend bool operator==(const chan_base& a, const chan_base& b) noexcept { return a.ref_ == b.ref_; }

  // Internal: the channel for select.
  chan_core* core() const noexcept { return ref_.get(); }

 protected:
  chan_base() noexcept = default;
  explicit chan_base(chan_ref r) noexcept : ref_(std::move(r)) {}

  void do_send(T v, const weft::source_location& loc) const { chan_send(ref_.get(), &v, loc); }
  bool do_try_send(T v) const { return chan_try_send(ref_.get(), &v); }
  void do_close(const weft::source_location& loc) const { chan_close(ref_.get(), loc); }
  std::optional<T> do_recv(const weft::source_location& loc) const {
    recv_slot<T> s;
    if (!chan_recv(ref_.get(), s.ptr(), loc)) return std::nullopt;
    return s.take();
  }
  recv_result<T> do_recv2(const weft::source_location& loc) const {
    static_assert(std::is_default_constructible_v<T>,
                  "recv2 returns T{} once the channel is closed: T must be default-constructible "
                  "(use recv(), which returns std::optional<T>)");
    recv_slot<T> s;
    if (!chan_recv(ref_.get(), s.ptr(), loc)) return {T{}, false};
    recv_result<T> r{std::move(s.get()), true};
    s.get().~T();
    return r;
  }
  std::optional<T> do_try_recv() const {
    recv_slot<T> s;
    if (chan_try_recv(ref_.get(), s.ptr()) != try_recv_result::received) return std::nullopt;
    return s.take();
  }

  chan_ref ref_;
};

}  // namespace detail

// Receive-only view (Go's <-chan T).
template <class T>
class recv_chan : public detail::chan_base<T> {
 public:
  recv_chan() noexcept = default;  // the nil channel
  recv_chan(const chan<T>& c) noexcept;  // NOLINT: implicit, like Go's assignability

  // Blocks for a value; nullopt once the channel is closed and drained.
  std::optional<T> recv(const weft::source_location& loc = weft::source_location::current()) const {
    return this->do_recv(loc);
  }
  // Go's v, ok := <-ch: {T{}, false} once closed and drained.
  recv_result<T> recv2(const weft::source_location& loc = weft::source_location::current()) const {
    return this->do_recv2(loc);
  }
  // A value if one is ready now; nullopt if none (or closed and drained).
  std::optional<T> try_recv() const { return this->do_try_recv(); }

  // Range-for: receives until the channel is closed and drained.
  using iterator = detail::chan_iterator<T>;
  iterator begin() const { return iterator(this->core()); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend class chan<T>;
  explicit recv_chan(detail::chan_ref r) noexcept : detail::chan_base<T>(std::move(r)) {}
};

// Send-only view (Go's chan<- T).
template <class T>
class send_chan : public detail::chan_base<T> {
 public:
  send_chan() noexcept = default;  // the nil channel
  send_chan(const chan<T>& c) noexcept;  // NOLINT: implicit

  // Blocks until a receiver takes v or the buffer has room.
  void send(T v, const weft::source_location& loc = weft::source_location::current()) const {
    this->do_send(std::move(v), loc);
  }
  // Sends only if that needs no waiting; false otherwise (v is then dropped).
  // Panics on a closed channel, like a select send case.
  bool try_send(T v) const { return this->do_try_send(std::move(v)); }
  void close(const weft::source_location& loc = weft::source_location::current()) const {
    this->do_close(loc);
  }
};

// A bidirectional channel handle.
template <class T>
class chan : public detail::chan_base<T> {
 public:
  using value_type = T;
  chan() noexcept { detail::check_elem_type<T>(); }  // the nil channel

  void send(T v, const weft::source_location& loc = weft::source_location::current()) const {
    this->do_send(std::move(v), loc);
  }
  bool try_send(T v) const { return this->do_try_send(std::move(v)); }
  std::optional<T> recv(const weft::source_location& loc = weft::source_location::current()) const {
    return this->do_recv(loc);
  }
  recv_result<T> recv2(const weft::source_location& loc = weft::source_location::current()) const {
    return this->do_recv2(loc);
  }
  std::optional<T> try_recv() const { return this->do_try_recv(); }
  void close(const weft::source_location& loc = weft::source_location::current()) const {
    this->do_close(loc);
  }

  using iterator = detail::chan_iterator<T>;
  iterator begin() const { return iterator(this->core()); }
  std::default_sentinel_t end() const noexcept { return {}; }

  recv_chan<T> as_recv() const noexcept { return recv_chan<T>(*this); }
  send_chan<T> as_send() const noexcept { return send_chan<T>(*this); }

 private:
  template <class U>
  friend chan<U> make_chan(std::size_t);
  friend class recv_chan<T>;
  friend class send_chan<T>;
  explicit chan(detail::chan_ref r) noexcept : detail::chan_base<T>(std::move(r)) {}
  const detail::chan_ref& ref() const noexcept { return this->ref_; }
};

template <class T>
recv_chan<T>::recv_chan(const chan<T>& c) noexcept : detail::chan_base<T>(c.ref()) {}
template <class T>
send_chan<T>::send_chan(const chan<T>& c) noexcept : detail::chan_base<T>(c.ref()) {}

// Go's make(chan T, capacity).
template <class T>
chan<T> make_chan(std::size_t capacity = 0) {
  detail::check_elem_type<T>();
  return chan<T>(detail::chan_ref(detail::chan_make(&detail::elem_ops_for<T>, capacity)));
}

}  // namespace weft
