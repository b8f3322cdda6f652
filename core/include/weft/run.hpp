// weft::run — start the runtime, run main as the main goroutine, tear down.
//
//   int main() {
//     return weft::run({.procs = 4}, [] {
//       weft::go([] { ... });
//       return 0;
//     });
//   }
//
// run returns main's result once main returns, like Go's main. Goroutines that
// can still finish get a short grace period; those still alive after it are
// listed on stderr (Go-style, with their creation sites) and unwound, so their
// destructors run. An exception escaping main propagates out
// of run; one escaping any other goroutine is an unrecovered panic: reported
// with the goroutine's id and creation site, then the program aborts. If every
// goroutine blocks with no timer pending, run throws
// panic_error("all goroutines are asleep - deadlock!").
//
// Each run owns its scheduler: runs may follow one another or run side by side
// in different threads. A goroutine must not call run.
#pragma once

#include <chrono>
#include <cstddef>
#include <type_traits>

#include "weft/detail/task.hpp"

namespace weft {

struct run_options {
  unsigned procs = 0;                    // worker threads (Go's GOMAXPROCS); 0: one per hardware thread
  std::size_t stack_size = 256 * 1024;   // per goroutine; only touched pages become resident
  bool report_leaks = true;              // list goroutines left when main returns
  // After main returns, goroutines that can still finish get this long to do
  // so (like goleak's retries); whatever is left is reported and unwound. run
  // returns at once when every goroutine has finished or is blocked for good.
  std::chrono::milliseconds shutdown_grace{100};
};

namespace detail {
void run_main(const run_options& opt, task body);
}

template <class F>
int run(const run_options& opt, F&& main_fn) {
  static_assert(std::is_invocable_v<F&>, "weft::run: main must be callable with no arguments");
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_void_v<R> || std::is_convertible_v<R, int>,
                "weft::run: main must return int (its exit code) or void");
  int result = 0;
  detail::run_main(opt, detail::task([&main_fn, &result] {
                     if constexpr (std::is_void_v<R>) {
                       (void)result;
                       main_fn();
                     } else {
                       result = static_cast<int>(main_fn());
                     }
                   }));
  return result;
}

template <class F>
int run(F&& main_fn) {
  return run(run_options{}, std::forward<F>(main_fn));
}

}  // namespace weft
