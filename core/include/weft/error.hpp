// weft::error — Go's error value, carrying what a log needs to explain it.
//
//   weft::error e{"disk full"};                     // errors.New
//   weft::error w = weft::wrap(e, "saving report");  // fmt.Errorf("saving report: %w", e)
//   w.message();                                     // "saving report: disk full"
//   weft::is(w, e);                                  // errors.Is: true
//   if (!w) { ... }                                  // default-constructed: success (Go's nil)
//
// A user-defined error type derives from weft::error_base and says what went
// wrong in message(); weft::as<T>(err) finds it anywhere along the wrap chain
// (errors.As):
//
//   struct not_found : weft::error_base {
//     std::string key;
//     explicit not_found(std::string k) : key(std::move(k)) {}
//     std::string message() const override { return "not found: " + key; }
//   };
//   weft::error e = not_found{"user/7"};             // or weft::error(not_found{...}, cause)
//   if (auto nf = weft::as<not_found>(e)) use(nf->key);
//
// States: an error is empty (success) or refers to one immutable layer (an
// error_base) which may refer to its cause, and so on: a singly linked chain
// that is never modified once built, so copies share it freely between
// goroutines (copying costs one atomic increment) and nothing here locks.
//
// Each layer records where and when it was made: the call site
// (weft::source_location), the UTC time, the goroutine id (0 outside weft::run),
// a process-unique id for cross-referencing logs, and the raw return addresses
// of the stack (Boost.Stacktrace). Capturing costs one stack walk; turning the
// addresses into function names and source lines is done only when someone
// asks (stack_trace(), details()), because most errors are handled and dropped
// without anyone reading their stack. Sentinels (error::sentinel, weft::canceled,
// weft::deadline_exceeded) record neither time nor stack: they are values to
// compare with, not events.
//
// The seeds' error-propagation rule, in weft's terms: a low-level error is
// wrapped, at each module boundary, into a well-formed error of that module's
// own type (error_base subclass, with a user-facing message); the top level
// shows as<its type>'s message, or — for anything else, which is a bug — a
// generic message with the id() so the full record (details()) can be found in
// the log.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include "weft/source_location.hpp"
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft {

class error_base;

namespace detail {
struct error_access;
}

// One symbolized frame of a recorded stack.
struct stack_frame {
  const void* address = nullptr;
  std::string function;  // demangled; empty when unknown
  std::string file;      // empty when there is no debug information
  std::size_t line = 0;
};

class error {
 public:
  // Success (Go's nil error).
  error() noexcept = default;

  // Go's errors.New(message).
  [[gnu::always_inline]] explicit error(std::string_view message,
                                        const weft::source_location& where = weft::source_location::current())
      : error(make_text(message, where)) {}

  // A user-defined error (derived from error_base), recorded here. Implicit, so
  // a function returning weft::error can `return my_error{...};`.
  template <class E>
    requires std::derived_from<std::remove_cvref_t<E>, error_base>
  [[gnu::always_inline]] error(E&& e,  // NOLINT(google-explicit-constructor)
                               const weft::source_location& where = weft::source_location::current())
      : error(adopt(std::make_shared<std::remove_cvref_t<E>>(std::forward<E>(e)), error{}, where)) {}
  // The same, wrapping `cause` (its message follows this one's, after ": ").
  template <class E>
    requires std::derived_from<std::remove_cvref_t<E>, error_base>
  [[gnu::always_inline]] error(E&& e, error cause,
                               const weft::source_location& where = weft::source_location::current())
      : error(adopt(std::make_shared<std::remove_cvref_t<E>>(std::forward<E>(e)), std::move(cause), where)) {}

  // A sentinel: an error value to compare with weft::is, made once (usually as
  // a global) and returned as is. It records no time and no stack.
  //   inline const weft::error not_found = weft::error::sentinel("not found");
  static error sentinel(std::string_view message,
                        const weft::source_location& where = weft::source_location::current());

  // True for an error, false for success.
  explicit operator bool() const noexcept { return p_ != nullptr; }

  // The whole chain's text: "outer: middle: inner" ("" for success).
  std::string message() const;
  // The same, as a C string that lives as long as any copy of this error.
  const char* what() const noexcept;
  // The error this one wraps (success if none): Go's errors.Unwrap.
  error unwrap() const;
  // This layer (null for success).
  const error_base* get() const noexcept { return p_.get(); }
  const error_base* operator->() const noexcept { return p_.get(); }

  // This layer's record (see error_base for the meaning of each).
  weft::source_location where() const noexcept;
  std::chrono::system_clock::time_point when() const noexcept;
  std::uint64_t goroutine() const noexcept;
  std::uint64_t id() const noexcept;
  bool has_stack() const noexcept;
  std::span<const void* const> raw_stack() const noexcept;
  std::vector<stack_frame> stack() const;
  std::string stack_trace() const;
  std::uint64_t stack_hash() const;
  // The full record for a log: every layer's message, id, UTC time, host,
  // goroutine and call site, then the stack of the innermost layer that has one.
  std::string details() const;

  // Go's == on error values: the same error (not equal text).
  friend bool operator==(const error& a, const error& b) noexcept { return a.p_ == b.p_; }
  // "<nil>" for success, otherwise message().
  friend std::ostream& operator<<(std::ostream& os, const error& e);

 private:
  friend struct detail::error_access;
  template <class E>
  friend std::shared_ptr<const E> as(const error& err);

  explicit error(std::shared_ptr<const error_base> p) noexcept : p_(std::move(p)) {}
  // Out of line and never inlined: their return address is a point in the
  // function that made the error (the constructors above are always inlined
  // into it), where the recorded stack starts.
  static error make_text(std::string_view message, const weft::source_location& where);
  static error adopt(std::shared_ptr<error_base> p, error cause, const weft::source_location& where);

  std::shared_ptr<const error_base> p_;
};

// The base of every error layer. Derive from it to define an error type; its
// data members are immutable once the layer is inside a weft::error.
class error_base {
 public:
  error_base() noexcept = default;
  // Copying or moving an error_base copies the user's part only: the record
  // (time, stack, id, cause) belongs to the weft::error that adopts the copy.
  error_base(const error_base&) noexcept {}
  error_base& operator=(const error_base&) noexcept { return *this; }
  virtual ~error_base();

  // What went wrong, in this layer's words (without the cause's text, which
  // weft::error::message() appends after ": "). May be empty: then the layer
  // only adds a type (for weft::as) and its message is the cause's.
  virtual std::string message() const = 0;
  // Go's `Is(target error) bool` method: weft::is also accepts `target` when
  // this returns true (beyond identity). Named apart from weft::is so that the
  // free function stays visible inside derived classes.
  virtual bool matches(const error_base& target) const noexcept {
    (void)target;
    return false;
  }

  // The error this layer wraps (success if none).
  const error& cause() const noexcept { return cause_; }
  // The call site that made the layer.
  const weft::source_location& where() const noexcept { return where_; }
  // When it was made, UTC (the epoch for sentinels).
  std::chrono::system_clock::time_point when() const noexcept { return when_; }
  // The goroutine that made it (0 outside goroutines, and for sentinels).
  std::uint64_t goroutine() const noexcept { return goroutine_; }
  // Unique within the process, increasing: the id to quote in logs and to users.
  std::uint64_t id() const noexcept { return id_; }
  bool has_stack() const noexcept { return nframes_ != 0; }
  // Return addresses, innermost first, starting at the frame that made the error.
  std::span<const void* const> raw_stack() const noexcept { return {frames_.get(), nframes_}; }
  // Symbolized on each call (reads debug information: slow, do it when logging).
  std::vector<stack_frame> stack() const;
  // One frame a line: "#0 function at file:line".
  std::string stack_trace() const;
  // A hash of the symbolized stack (function names only), stable across runs
  // and builds that do not rename functions: for grouping errors, like a bug
  // tracker. 0 when there is no stack.
  std::uint64_t stack_hash() const;

 private:
  friend struct detail::error_access;
  friend class error;

  error cause_;
  weft::source_location where_{};
  std::chrono::system_clock::time_point when_{};
  std::uint64_t goroutine_ = 0;
  std::uint64_t id_ = 0;
  std::unique_ptr<const void*[]> frames_;
  std::size_t nframes_ = 0;
  mutable std::atomic<const std::string*> what_{nullptr};  // error::what()'s cache
};

// Go's errors.Is: does any layer of err's chain equal target (same error, or a
// layer whose matches() accepts it)? is(success, success) is true.
bool is(const error& err, const error& target) noexcept;

// Go's errors.As: the first layer of err's chain that is an E, or null. The
// pointer shares ownership of the chain, so it stays valid on its own.
template <class E>
std::shared_ptr<const E> as(const error& err) {
  static_assert(std::is_base_of_v<error_base, E>, "weft::as<E>: E must derive from weft::error_base");
  for (const error* e = &err; e->p_ != nullptr; e = &e->p_->cause()) {
    if (auto* p = dynamic_cast<const E*>(e->p_.get())) return std::shared_ptr<const E>(e->p_, p);
  }
  return nullptr;
}
// Go's errors.As with an out parameter.
template <class E>
bool as(const error& err, std::shared_ptr<const E>& out) {
  out = as<E>(err);
  return out != nullptr;
}

// fmt.Errorf("message: %w", cause). Wrapping success gives success, so
// `return weft::wrap(step(), "step");` passes success through.
[[gnu::always_inline]] inline error wrap(error cause, std::string_view message,
                                         const weft::source_location& where = weft::source_location::current());

// Stack capture is on by default; turning it off (process-wide) makes new errors
// cheaper (no stack walk) for programs that never log stacks.
void set_error_stack_capture(bool enabled) noexcept;
bool error_stack_capture() noexcept;

namespace detail {
error wrap_impl(error cause, std::string_view message, const weft::source_location& where);
error canceled_sentinel();
error deadline_exceeded_sentinel();
}  // namespace detail

inline error wrap(error cause, std::string_view message, const weft::source_location& where) {
  return detail::wrap_impl(std::move(cause), message, where);
}

// context.Canceled and context.DeadlineExceeded: what ctx.err() returns.
inline const error canceled = detail::canceled_sentinel();                    // "context canceled"
inline const error deadline_exceeded = detail::deadline_exceeded_sentinel();  // "context deadline exceeded"

}  // namespace weft
