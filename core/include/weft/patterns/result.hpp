// weft::patterns::result<T> — a value or the error that prevented it (the
// book's `type Result struct { Error error; Response *http.Response }`).
//
//   weft::chan<result<page>> out = ...;
//   out.send(fetch(url));                      // a page, or weft::error{"..."}
//   for (auto r : out)
//     if (!r) log(r.err()); else use(*r);
//
// Why: a goroutine rarely knows what to do with its errors; the goroutine that
// started it does. So errors travel with the results, on the same channel, to
// where there is enough context to decide (Concurrency in Go, "Error
// Handling"). A result holds exactly one of the two: a T, or a non-empty
// weft::error. It is a plain value: copy it, move it, send it on channels.
// Default-constructed it holds T{} (as std::expected does), so recv2 works on
// channels of results.
//
// Misuse is a panic_error: value() of an error result (the message carries
// the error's), and building an error result from a success error.
#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "weft/error.hpp"
#include "weft/panic.hpp"

namespace weft::patterns {

template <class T>
class result {
  static_assert(!std::is_reference_v<T> && !std::is_same_v<std::remove_cv_t<T>, error>,
                "result<T>: T must be a value type other than weft::error");

 public:
  using value_type = T;

  // T{} (needs a default-constructible T).
  result() requires std::default_initializable<T> : v_(std::in_place) {}

  // A value.
  template <class U = T>
    requires(std::constructible_from<T, U &&> && !std::same_as<std::remove_cvref_t<U>, result> &&
             !std::same_as<std::remove_cvref_t<U>, error>)
  result(U&& v)  // NOLINT(google-explicit-constructor): `return value;` from a function returning result
      : v_(std::in_place, std::forward<U>(v)) {}

  // An error; it must be one (a success error carries no reason to report).
  result(error e)  // NOLINT(google-explicit-constructor): `return weft::error{...};`
      : err_(std::move(e)) {
    if (!err_) throw panic_error("patterns::result: an error result needs an error (got success)");
  }

  bool ok() const noexcept { return v_.has_value(); }
  bool has_value() const noexcept { return v_.has_value(); }
  explicit operator bool() const noexcept { return v_.has_value(); }

  // The error; success when the result holds a value (so `if (r.err())` reads as in Go).
  const error& err() const noexcept { return err_; }

  T& value() & {
    check();
    return *v_;
  }
  const T& value() const& {
    check();
    return *v_;
  }
  T&& value() && {
    check();
    return std::move(*v_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <class U>
  T value_or(U&& fallback) const& {
    return v_ ? *v_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  T value_or(U&& fallback) && {
    return v_ ? std::move(*v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!v_) throw panic_error("patterns::result: value() of an error result: " + err_.message());
  }

  std::optional<T> v_;
  error err_;
};

}  // namespace weft::patterns
