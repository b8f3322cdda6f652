// weft::panic_error — the runtime-misuse error (Go's run-time panics).
//
// Go makes some of these fatal; weft throws them so a program (and a test) can
// observe them. what() carries Go's exact message, e.g. "send on closed channel".
#pragma once

#include <stdexcept>
#include <string>

namespace weft {

class panic_error : public std::runtime_error {
 public:
  explicit panic_error(const std::string& message) : std::runtime_error(message) {}
  explicit panic_error(const char* message) : std::runtime_error(message) {}
};

}  // namespace weft
