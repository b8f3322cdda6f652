// Fatal errors a program cannot continue from, reported Go-style with the
// goroutine's id and creation site: a stack overflow, and an exception that
// escaped a goroutine (an unrecovered panic).
#pragma once

#include <string>

#include "runtime/g.hpp"

namespace weft::detail {

// Install (once per process) the SIGSEGV/SIGBUS handler that recognises a
// fault in a goroutine stack's guard page. Other faults go to the previous
// handler.
void overflow_handler_install();

// A signal stack for the calling thread while it lives (an overflowing
// goroutine has no stack left to run the handler on). Leaves a thread's
// existing signal stack alone.
class alt_signal_stack {
 public:
  alt_signal_stack();
  ~alt_signal_stack();
  alt_signal_stack(const alt_signal_stack&) = delete;
  alt_signal_stack& operator=(const alt_signal_stack&) = delete;

 private:
  void* mem_ = nullptr;
};

[[noreturn]] void fatal_goroutine_panic(const g* gp, const std::string& what) noexcept;

}  // namespace weft::detail
