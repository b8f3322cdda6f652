// weft::error: recording a layer, walking the chain, symbolizing stacks.
//
// Capture is one stack walk (_Unwind_Backtrace through Boost.Stacktrace's
// safe_dump_to) into a small buffer, trimmed to start at the frame that made
// the error and copied into the layer. Symbolizing (Boost.Stacktrace's frame,
// libbacktrace underneath: demangled names, files and lines from DWARF) happens
// only in stack()/stack_trace()/details()/stack_hash().
#define BOOST_STACKTRACE_LINK
#include "weft/error.hpp"

#include <unistd.h>

#include <boost/stacktrace/frame.hpp>
#include <boost/stacktrace/safe_dump_to.hpp>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <string>

#include "weft/detail/config.hpp"
#include "weft/detail/kernel.hpp"

namespace weft {

namespace detail {

namespace {

constexpr std::size_t max_frames = 64;
// Frames above the one that made the error: safe_dump_to's own, capture's, and
// the maker's (make_text / adopt / wrap_impl). A few spare for inlining changes.
constexpr std::size_t max_skipped = 8;

std::atomic<std::uint64_t> next_error_id{1};
std::atomic<bool> capture_stacks{true};

// A layer whose message is plain text: error{"..."}, wrap(), sentinels.
class text_error final : public error_base {
 public:
  explicit text_error(std::string_view m) : text_(m) {}
  std::string message() const override { return text_; }

 private:
  std::string text_;
};

const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return std::string("unknown-host");
    return std::string(buf);
  }();
  return name;
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto since = t.time_since_epoch();
  const auto secs = duration_cast<seconds>(since);
  auto micros = duration_cast<microseconds>(since - secs).count();
  std::time_t tt = static_cast<std::time_t>(secs.count());
  if (micros < 0) {  // before the epoch: floor, not truncate
    micros += 1'000'000;
    --tt;
  }
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(micros));
  return buf;
}

stack_frame symbolize(const void* addr) {
  stack_frame f;
  f.address = addr;
  // A return address points after the call; the call's own line is one byte back.
  boost::stacktrace::frame bf(reinterpret_cast<boost::stacktrace::frame::native_frame_ptr_t>(
      reinterpret_cast<std::uintptr_t>(addr) - 1));
  f.function = bf.name();
  f.file = bf.source_file();
  f.line = bf.source_line();
  return f;
}

}  // namespace

// Fills a fresh layer's record. `marker` is the return address of the maker,
// i.e. a point in the function that made the error: the recorded stack starts
// at that frame.
struct error_access {
  WEFT_NOINLINE static void record(error_base& b, error cause, const weft::source_location& where,
                                   const void* marker, bool with_stack) {
    b.cause_ = std::move(cause);
    b.where_ = where;
    b.id_ = next_error_id.fetch_add(1, std::memory_order_relaxed);
    if (!with_stack) return;
    b.when_ = std::chrono::system_clock::now();
    b.goroutine_ = current_goroutine_id();
    if (!capture_stacks.load(std::memory_order_relaxed)) return;
    void* buf[max_frames + max_skipped + 1];
    std::size_t n = boost::stacktrace::safe_dump_to(0, buf, sizeof buf);
    while (n > 0 && buf[n - 1] == nullptr) --n;  // the dump's terminator
    std::size_t first = 0;
    for (std::size_t i = 0; i < n && i <= max_skipped; ++i) {
      if (buf[i] == marker) {
        first = i;
        break;
      }
    }
    std::size_t count = n - first;
    if (count > max_frames) count = max_frames;
    if (count == 0) return;
    auto frames = std::make_unique<const void*[]>(count);
    for (std::size_t i = 0; i < count; ++i) frames[i] = buf[first + i];
    b.frames_ = std::move(frames);
    b.nframes_ = count;
  }

  static error make(std::shared_ptr<error_base> p) { return error(std::shared_ptr<const error_base>(std::move(p))); }
  static const error_base* get(const error& e) noexcept { return e.p_.get(); }
};

error wrap_impl_noinline(error cause, std::string_view message, const weft::source_location& where,
                         const void* marker) {
  auto p = std::make_shared<text_error>(message);
  error_access::record(*p, std::move(cause), where, marker, true);
  return error_access::make(std::move(p));
}

WEFT_NOINLINE error wrap_impl(error cause, std::string_view message, const weft::source_location& where) {
  if (!cause) return {};
  return wrap_impl_noinline(std::move(cause), message, where, __builtin_return_address(0));
}

namespace {
// A sentinel for the whole process that is never destroyed, whose copies own
// nothing (a shared_ptr aliasing it with no control block): every cancel
// stores weft::canceled and every err() that sees it returns a copy, and
// these then cost no atomic operation, as copying a Go error value does not.
// The counted reference lives in static storage that is never destroyed.
template <int Slot>
error immortal(error e) {
  alignas(error) static unsigned char storage[sizeof(error)];
  const error* kept = ::new (storage) error(std::move(e));
  return error_access::make(std::shared_ptr<error_base>(
      std::shared_ptr<error_base>(), const_cast<error_base*>(error_access::get(*kept))));
}
}  // namespace

error canceled_sentinel() {
  // One layer for the whole process, whichever translation unit asks first.
  static const error e = immortal<0>(error::sentinel("context canceled"));
  return e;
}

error deadline_exceeded_sentinel() {
  static const error e = immortal<1>(error::sentinel("context deadline exceeded"));
  return e;
}

}  // namespace detail

// ------------------------------------------------------------------ error_base

error_base::~error_base() { delete what_.load(std::memory_order_acquire); }

std::vector<stack_frame> error_base::stack() const {
  std::vector<stack_frame> out;
  out.reserve(nframes_);
  for (std::size_t i = 0; i < nframes_; ++i) out.push_back(detail::symbolize(frames_[i]));
  return out;
}

std::string error_base::stack_trace() const {
  std::string out;
  std::size_t i = 0;
  for (const stack_frame& f : stack()) {
    char head[48];
    std::snprintf(head, sizeof head, "#%zu %p ", i++, f.address);
    out += head;
    out += f.function.empty() ? std::string("??") : f.function;
    if (!f.file.empty()) {
      out += " at ";
      out += f.file;
      out += ':';
      out += std::to_string(f.line);
    }
    out += '\n';
  }
  return out;
}

std::uint64_t error_base::stack_hash() const {
  if (nframes_ == 0) return 0;
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const stack_frame& f : stack()) mix(f.function);
  return h;
}

// ------------------------------------------------------------------ error

WEFT_NOINLINE error error::make_text(std::string_view message, const weft::source_location& where) {
  auto p = std::make_shared<detail::text_error>(message);
  detail::error_access::record(*p, error{}, where, __builtin_return_address(0), true);
  return detail::error_access::make(std::move(p));
}

WEFT_NOINLINE error error::adopt(std::shared_ptr<error_base> p, error cause, const weft::source_location& where) {
  detail::error_access::record(*p, std::move(cause), where, __builtin_return_address(0), true);
  return detail::error_access::make(std::move(p));
}

error error::sentinel(std::string_view message, const weft::source_location& where) {
  auto p = std::make_shared<detail::text_error>(message);
  detail::error_access::record(*p, error{}, where, nullptr, false);
  return detail::error_access::make(std::move(p));
}

std::string error::message() const {
  std::string out;
  for (const error* e = this; e->p_ != nullptr; e = &e->p_->cause()) {
    std::string m = e->p_->message();
    if (m.empty()) continue;
    if (!out.empty()) out += ": ";
    out += m;
  }
  return out;
}

const char* error::what() const noexcept {
  if (p_ == nullptr) return "";
  const std::string* s = p_->what_.load(std::memory_order_acquire);
  if (s == nullptr) {
    std::string* fresh;
    try {
      fresh = new std::string(message());
    } catch (...) {
      return "weft::error (out of memory formatting its message)";
    }
    if (p_->what_.compare_exchange_strong(s, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
      s = fresh;
    } else {
      delete fresh;  // another thread won; s is its string
    }
  }
  return s->c_str();
}

error error::unwrap() const { return p_ != nullptr ? p_->cause() : error{}; }

weft::source_location error::where() const noexcept { return p_ != nullptr ? p_->where() : weft::source_location{}; }
std::chrono::system_clock::time_point error::when() const noexcept {
  return p_ != nullptr ? p_->when() : std::chrono::system_clock::time_point{};
}
std::uint64_t error::goroutine() const noexcept { return p_ != nullptr ? p_->goroutine() : 0; }
std::uint64_t error::id() const noexcept { return p_ != nullptr ? p_->id() : 0; }
bool error::has_stack() const noexcept { return p_ != nullptr && p_->has_stack(); }
std::span<const void* const> error::raw_stack() const noexcept {
  return p_ != nullptr ? p_->raw_stack() : std::span<const void* const>{};
}
std::vector<stack_frame> error::stack() const { return p_ != nullptr ? p_->stack() : std::vector<stack_frame>{}; }
std::string error::stack_trace() const { return p_ != nullptr ? p_->stack_trace() : std::string{}; }
std::uint64_t error::stack_hash() const { return p_ != nullptr ? p_->stack_hash() : 0; }

std::string error::details() const {
  if (p_ == nullptr) return "<nil>";
  std::string out;
  const error_base* deepest_with_stack = nullptr;
  bool first = true;
  for (const error* e = this; e->p_ != nullptr; e = &e->p_->cause()) {
    const error_base& b = *e->p_;
    out += first ? "error " : "caused by error ";
    first = false;
    out += std::to_string(b.id());
    out += ": ";
    out += e->message();
    out += "\n  ";
    if (b.has_stack() || b.when() != std::chrono::system_clock::time_point{}) {
      out += detail::format_utc(b.when());
      out += " host ";
      out += detail::host_name();
      out += " pid ";
      out += std::to_string(::getpid());
      out += " goroutine ";
      out += std::to_string(b.goroutine());
      out += ", ";
    } else {
      out += "(sentinel) ";
    }
    out += "made at ";
    out += b.where().file_name();
    out += ':';
    out += std::to_string(b.where().line());
    out += " in ";
    out += b.where().function_name();
    out += '\n';
    if (b.has_stack()) deepest_with_stack = &b;
  }
  if (deepest_with_stack != nullptr) {
    out += "stack of error ";
    out += std::to_string(deepest_with_stack->id());
    out += ":\n";
    out += deepest_with_stack->stack_trace();
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const error& e) {
  if (!e) return os << "<nil>";
  return os << e.message();
}

// ------------------------------------------------------------------ free functions

bool is(const error& err, const error& target) noexcept {
  if (!target) return !err;
  for (const error* e = &err; e->get() != nullptr; e = &e->get()->cause()) {
    if (e->get() == target.get() || e->get()->matches(*target.get())) return true;
  }
  return false;
}

void set_error_stack_capture(bool enabled) noexcept {
  detail::capture_stacks.store(enabled, std::memory_order_relaxed);
}
bool error_stack_capture() noexcept { return detail::capture_stacks.load(std::memory_order_relaxed); }

}  // namespace weft
