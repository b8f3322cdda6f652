// detail::task — a move-only `void()` callable with inline storage.
//
// Written here rather than using std::function because a goroutine's body is
// usually a small lambda and spawning must not allocate for it (spawn+join is a
// benchmark target), and because bodies may capture move-only values, which
// std::function forbids. Callables larger than the inline buffer, or whose
// move may throw, go to the heap.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace weft::detail {

class task {
 public:
  static constexpr std::size_t inline_size = 48;

  task() noexcept = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, task> && std::is_invocable_v<D&>>>
  task(F&& f) {  // NOLINT(google-explicit-constructor): a lambda converts like std::function
    if constexpr (fits<D>) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      vt_ = &inline_vtable<D>;
    } else {
      *reinterpret_cast<D**>(buf_) = new D(std::forward<F>(f));
      vt_ = &heap_vtable<D>;
    }
  }

  task(task&& o) noexcept : vt_(o.vt_) {
    if (vt_) {
      vt_->move(buf_, o.buf_);
      o.vt_ = nullptr;
    }
  }
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      reset();
      vt_ = o.vt_;
      if (vt_) {
        vt_->move(buf_, o.buf_);
        o.vt_ = nullptr;
      }
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  explicit operator bool() const noexcept { return vt_ != nullptr; }
  void operator()() { vt_->call(buf_); }
  void reset() noexcept {
    if (vt_) {
      auto* vt = vt_;
      vt_ = nullptr;
      vt->destroy(buf_);
    }
  }

 private:
  struct vtable {
    void (*call)(void*);
    void (*move)(void* dst, void* src) noexcept;
    void (*destroy)(void*) noexcept;
  };
  template <class D>
  static constexpr bool fits = sizeof(D) <= inline_size && alignof(D) <= alignof(std::max_align_t) &&
                               std::is_nothrow_move_constructible_v<D>;

  template <class D>
  static constexpr vtable inline_vtable{
      [](void* p) { (*static_cast<D*>(p))(); },
      [](void* dst, void* src) noexcept {
        ::new (dst) D(std::move(*static_cast<D*>(src)));
        static_cast<D*>(src)->~D();
      },
      [](void* p) noexcept { static_cast<D*>(p)->~D(); }};
  template <class D>
  static constexpr vtable heap_vtable{
      [](void* p) { (**static_cast<D**>(p))(); },
      [](void* dst, void* src) noexcept { *static_cast<D**>(dst) = *static_cast<D**>(src); },
      [](void* p) noexcept { delete *static_cast<D**>(p); }};

  alignas(std::max_align_t) unsigned char buf_[inline_size];
  const vtable* vt_ = nullptr;
};

}  // namespace weft::detail
