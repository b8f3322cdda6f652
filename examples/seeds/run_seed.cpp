// One seed program on the real scheduler: weft_seed_<name> [bad|fixed] [options]
//
// Built once per program (SEED_PROGRAM names it). Runs the bad version, then
// its corrected twin (or just the one named), each in a child process under
// weft::run, and says how each ended: normally, with a panic (a deadlock on the
// real scheduler is "all goroutines are asleep - deadlock!"), or not at all
// within the time limit (a livelock, or a goroutine that never ends). A race
// may or may not show here: that is what the explorer is for (weft_catalogue).
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>

#include <weft/weft.hpp>

#include "seeds.hpp"

#ifndef SEED_PROGRAM
#error "SEED_PROGRAM must name a program of the catalogue"
#endif

namespace {

void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [bad|fixed] [--procs N] [--time-limit SECONDS]\n"
               "  runs the bad version and its fixed twin (or only the one named) on the real\n"
               "  scheduler; a run still going after the time limit (default 10) is stopped\n",
               argv0);
}

// In the child: run one variant as the main goroutine, say how it ended.
int run_variant(const seeds::program& p, seeds::variant v, unsigned procs) {
  try {
    weft::run({.procs = procs}, [&] { p.body(v)(); });
    std::printf("-> %s version finished normally\n", std::string(to_string(v)).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::printf("-> %s version ended with: %s\n", std::string(to_string(v)).c_str(), e.what());
    return 1;
  }
}

// Fork, run the variant in the child, wait at most `limit`.
int run_in_child(const seeds::program& p, seeds::variant v, unsigned procs, std::chrono::seconds limit) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    return 2;
  }
  if (child == 0) {
    const int rc = run_variant(p, v, procs);
    std::fflush(stdout);
    std::_Exit(rc);
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      std::printf("-> %s version still running after %llds: stopped (it never ends: a livelock, or a goroutine\n"
                  "   that waits forever while others keep the program alive)\n",
                  std::string(to_string(v)).c_str(), static_cast<long long>(limit.count()));
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFSIGNALED(status)) {
    std::printf("-> %s version killed by signal %d (%s)\n", std::string(to_string(v)).c_str(), WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    return 4;
  }
  return WEXITSTATUS(status);
}

}  // namespace

int main(int argc, char** argv) {
  const seeds::program* p = seeds::find(SEED_PROGRAM);
  if (p == nullptr) {
    std::fprintf(stderr, "%s: no program named %s in the catalogue\n", argv[0], SEED_PROGRAM);
    return 2;
  }
  bool run_bad = true, run_fixed = true;
  unsigned procs = 0;
  long limit = 10;  // the seeds sleep as the book does (printSum: 2 s per lock, twice)
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "bad") {
      run_fixed = false;
    } else if (a == "fixed") {
      run_bad = false;
    } else if (a == "--procs" && i + 1 < argc) {
      procs = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (a == "--time-limit" && i + 1 < argc) {
      limit = std::atol(argv[++i]);
    } else {
      usage(argv[0]);
      return 2;
    }
  }
  if (limit < 1) {
    usage(argv[0]);
    return 2;
  }

  int rc_bad = 0, rc_fixed = 0;
  if (run_bad) {
    std::printf("== %s, the bad version: %s\n", std::string(p->title).c_str(), std::string(p->bug).c_str());
    rc_bad = run_in_child(*p, seeds::variant::bad, procs, std::chrono::seconds(limit));
  }
  if (run_fixed) {
    std::printf("== %s, the fixed twin: %s\n", std::string(p->title).c_str(), std::string(p->fix).c_str());
    rc_fixed = run_in_child(*p, seeds::variant::fixed, procs, std::chrono::seconds(limit));
  }
  std::printf("(to explore its schedules: weft_catalogue --filter %s)\n", SEED_PROGRAM);
  // The bad version misbehaving is the point: with both run, the exit status
  // is the fixed twin's.
  return run_fixed ? rc_fixed : rc_bad;
}
