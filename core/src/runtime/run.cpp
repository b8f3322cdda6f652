#include <exception>
#include <memory>

#include "runtime/g.hpp"
#include "runtime/real_scheduler.hpp"
#include "runtime/scheduler.hpp"
#include "weft/panic.hpp"
#include "weft/run.hpp"

namespace weft::detail {

void run_main(const run_options& opt, task body) {
  if (current_g() != nullptr)
    throw panic_error("weft::run called from inside a goroutine: start goroutines with weft::go instead");
  if (opt.stack_size < 16 * 1024)
    throw panic_error("weft::run: stack_size must be at least 16 KiB");
  if (opt.shutdown_grace.count() < 0) throw panic_error("weft::run: shutdown_grace must not be negative");
  std::exception_ptr main_error;
  {
    runtime_section rs;
    // On the heap: fresh memory, so nothing earlier on this stack looks like it
    // races with the workers' accesses to the scheduler.
    auto sched = std::make_unique<real_scheduler>(real_options{opt.procs, opt.stack_size, opt.report_leaks, opt.shutdown_grace});
    // Every goroutine's end happens before run returns (see goroutine_entry),
    // also when run throws (a deadlock).
    struct join_edge {
      const void* s;
      ~join_edge() { hb_acquire(s); }
    } edge{sched.get()};
    sched->run_main(task([&body, &main_error] {
      try {
        body();
      } catch (const forced_unwind&) {
        throw;
      } catch (...) {
        main_error = std::current_exception();
      }
    }));
  }
  if (main_error) std::rethrow_exception(main_error);
}

}  // namespace weft::detail
