#include "runtime/fatal.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace weft::detail {

namespace {

constexpr std::size_t alt_stack_size = 64 * 1024;
struct sigaction old_segv {};
struct sigaction old_bus {};

// Async-signal-safe output: no allocation, no stdio.
struct sig_writer {
  char buf[1024];
  std::size_t n = 0;
  void put(const char* s) noexcept {
    while (s != nullptr && *s != '\0' && n < sizeof buf) buf[n++] = *s++;
  }
  void put(unsigned long long v) noexcept {
    char tmp[24];
    int i = 0;
    do {
      tmp[i++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (i > 0 && n < sizeof buf) buf[n++] = tmp[--i];
  }
  void flush() noexcept {
    std::size_t off = 0;
    while (off < n) {
      ssize_t w = ::write(2, buf + off, n - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    n = 0;
  }
};

void describe(sig_writer& out, const g* gp) noexcept {
  out.put("goroutine ");
  out.put(static_cast<unsigned long long>(gp->id));
  if (gp->is_main) {
    out.put(" (main goroutine)");
  } else if (gp->created_at.line() != 0) {
    out.put(", created by goroutine ");
    out.put(static_cast<unsigned long long>(gp->parent_id));
    out.put(" at ");
    out.put(gp->created_at.file_name());
    out.put(":");
    out.put(static_cast<unsigned long long>(gp->created_at.line()));
    out.put(" in ");
    out.put(gp->created_at.function_name());
  }
}

[[noreturn]] void die_of_overflow(const g* gp, std::size_t stack_size) noexcept {
  sig_writer out;
  out.put("fatal error: stack overflow in ");
  describe(out, gp);
  out.put("\n(goroutine stacks are ");
  out.put(static_cast<unsigned long long>(stack_size / 1024));
  out.put(" KiB: raise weft::run_options::stack_size, or recurse less deeply)\n");
  out.flush();
  ::signal(SIGABRT, SIG_DFL);
  std::abort();
}

void chain(const struct sigaction& old, int sig, siginfo_t* info, void* uctx) {
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction != nullptr) {
      old.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    old.sa_handler(sig);
    return;
  }
  // Default action: restore it; the faulting instruction runs again and dies.
  ::signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  const g* gp = current_g();
  if (gp != nullptr && gp->stk.in_guard(info->si_addr)) die_of_overflow(gp, gp->stk.size);
  chain(sig == SIGSEGV ? old_segv : old_bus, sig, info, uctx);
}

}  // namespace

void overflow_handler_install() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = &on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &old_segv);
    ::sigaction(SIGBUS, &sa, &old_bus);
  });
}

alt_signal_stack::alt_signal_stack() {
  stack_t cur{};
  if (::sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return;
  void* m = ::mmap(nullptr, alt_stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return;
  stack_t ss{};
  ss.ss_sp = m;
  ss.ss_size = alt_stack_size;
  if (::sigaltstack(&ss, nullptr) != 0) {
    ::munmap(m, alt_stack_size);
    return;
  }
  mem_ = m;
}

alt_signal_stack::~alt_signal_stack() {
  if (mem_ == nullptr) return;
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  ::sigaltstack(&ss, nullptr);
  ::munmap(mem_, alt_stack_size);
}

void fatal_goroutine_panic(const g* gp, const std::string& what) noexcept {
  sig_writer out;
  out.put("panic: ");
  out.flush();
  std::fputs(what.c_str(), stderr);
  std::fflush(stderr);
  out.put("\n\n");
  describe(out, gp);
  out.put(" [running]\n(an exception escaped a goroutine; catch it inside the goroutine, or return "
          "an error through a channel or errgroup)\n");
  out.flush();
  std::abort();
}

[[noreturn]] void report_stack_overflow(context* ctx, const void* sp) noexcept {
  // A context with a stack is always the first member of a g.
  const g* gp = reinterpret_cast<const g*>(ctx);
  die_of_overflow(gp, gp->stk.size);
}

}  // namespace weft::detail
