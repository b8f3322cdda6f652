// The harness API a test body calls: choose, progress, fail, WEFT_ASSERT,
// shared<T> accesses. Each finds the explorer through the running goroutine;
// outside an exploration each falls back to its real-scheduler meaning.
#include <unistd.h>

#include <climits>
#include <string>

#include "explore/explorer.hpp"
#include "runtime/g.hpp"
#include "runtime/sanitizers.hpp"
#include "weft/check/explore.hpp"
#include "weft/check/shared.hpp"

namespace weft::check {

namespace {

// The explorer running the calling goroutine, or null. The explorer is the only
// controlled scheduler.
detail::explorer* current_explorer(weft::detail::g*& self) noexcept {
  self = weft::detail::current_g();
  if (self == nullptr || !self->sched->controlled) return nullptr;
  return static_cast<detail::explorer*>(self->sched);
}

std::string site(const weft::source_location& w) {
  return std::string(w.file_name() != nullptr ? w.file_name() : "?") + ":" + std::to_string(w.line());
}

}  // namespace

std::size_t choose(std::size_t n, const weft::source_location& where) {
  if (n == 0)
    throw config_error("weft::check::choose(0) at " + site(where) +
                       ": there is nothing to choose from; n must be at least 1");
  if (n > UINT32_MAX)
    throw config_error("weft::check::choose(n) at " + site(where) + ": n must be below 2^32");
  weft::detail::g* self;
  detail::explorer* ex = current_explorer(self);
  if (ex == nullptr) return 0;
  return ex->choose_user(self, static_cast<std::uint32_t>(n), where);
}

void progress(const weft::source_location& where) {
  weft::detail::g* self;
  if (detail::explorer* ex = current_explorer(self)) ex->record_progress(self, where);
}

bool exploring() noexcept {
  weft::detail::g* self;
  return current_explorer(self) != nullptr;
}

void fail(std::string_view message, const weft::source_location& where) {
  weft::detail::g* self;
  if (detail::explorer* ex = current_explorer(self)) {
    ex->assertion_failed(self, std::string(message), "fail@" + site(where), where);
    return;
  }
  throw assertion_error(std::string(message) + " (at " + site(where) + ")");
}

namespace detail {

void assert_failed(const char* expr, const weft::source_location& where) {
  std::string msg = std::string("WEFT_ASSERT(") + expr + ") failed";
  weft::detail::g* self;
  if (explorer* ex = current_explorer(self)) {
    ex->assertion_failed(self, std::move(msg), "assert@" + site(where), where);
    return;
  }
  throw assertion_error(msg + " at " + site(where));
}

void note_failure(check::kind k, std::string message, std::string where) {
  weft::detail::g* self;
  if (explorer* ex = current_explorer(self)) ex->note_failure(self, k, std::move(message), std::move(where));
}

bool on_access(const void* addr, std::size_t size, bool write, const weft::source_location& where) {
  weft::detail::g* self;
  explorer* ex = current_explorer(self);
  if (ex == nullptr) return false;
  // The interleaving point comes first (the access happens once the goroutine
  // runs on); the kernel throws forced_unwind from it at teardown.
  weft::detail::sched_point(write ? weft::detail::op::shared_write : weft::detail::op::shared_read, addr);
  ex->record_access(self, addr, size, write, where);
  return true;
}

void on_lifetime(const void* addr, std::size_t size) noexcept {
  weft::detail::g* self;
  if (explorer* ex = current_explorer(self)) ex->record_forget(self, addr, size);
}

#if WEFT_TSAN
void tsan_ignore_begin() noexcept { __tsan_ignore_thread_begin(); }
void tsan_ignore_end() noexcept { __tsan_ignore_thread_end(); }
#endif

std::string executable_path() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "<test binary>";
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace detail
}  // namespace weft::check
