// weft::go, yield, num_goroutine, blocking — the goroutine primitives.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include "weft/source_location.hpp"
#include <type_traits>
#include <utility>

#include "weft/detail/kernel.hpp"
#include "weft/detail/task.hpp"

namespace weft {

// Start fn as a new goroutine. The call happens before fn begins (Go's memory
// model). fn may capture move-only values. The creation site is recorded for
// dumps and reports.
template <class F>
void go(F&& fn, const weft::source_location& site = weft::source_location::current()) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "weft::go: fn must be callable with no arguments");
  detail::spawn(detail::task(std::forward<F>(fn)), site);
}

// Let other goroutines run (Go's runtime.Gosched).
inline void yield() { detail::yield(); }

// Goroutines alive in the calling goroutine's runtime, main included.
inline std::size_t num_goroutine() noexcept { return detail::num_goroutine(); }

// Run fn — a blocking system call, a long computation, a foreign library that
// blocks — on a thread of its own while the goroutine waits, so no worker
// stalls. Returns fn's result; rethrows what it throws.
template <class F>
auto blocking(F&& fn, const weft::source_location& site = weft::source_location::current())
    -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    detail::blocking_call(detail::task([&fn] { fn(); }), site);
  } else {
    std::optional<R> result;
    detail::blocking_call(detail::task([&fn, &result] { result.emplace(fn()); }), site);
    return std::move(*result);
  }
}

}  // namespace weft
