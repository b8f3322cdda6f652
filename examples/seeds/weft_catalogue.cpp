// weft_catalogue — the main job: explore every seed program, bad version and
// corrected twin, and show what the explorer finds.
//
//   weft_catalogue [--budget N] [--out DIR] [--filter TEXT] [--print] [--quiet]
//
// For each program of the catalogue (examples/seeds/seeds.hpp) it explores the
// bad version, which must end in the program's expected verdict within the
// budget, and the fixed twin, which must stay clean over the whole budget. It
// prints one table row per exploration (program, variant, expected and found
// verdict, the schedule that found it, schedules explored, time, the line that
// replays it), and writes each failure's text report, Perfetto trace and DOT
// wait-for graph to DIR/<program>/<variant>.{txt,perfetto.json,dot} (and the
// schedule string to <variant>.schedule), plus the table to DIR/summary.txt. Exit status: 0 when every verdict is the expected
// one, 1 otherwise, 2 for a usage error.
//
// Each exploration runs in a child process of its own: a program that crashes
// the explorer is reported as such in its row (a bug in weft, not in the
// program) and the rest of the catalogue still runs.
//
// Options:
//   --budget N     schedules per exploration (default: each program's own budget)
//   --out DIR      where reports go (default out/catalogue)
//   --filter TEXT  only the explorations whose "program/variant" contains TEXT
//                  (print_sum, /bad, hallway/fixed)
//   --print        also print every failure's text report
//   --quiet        print only the table
// The WEFT_* variables apply (WEFT_STRATEGY, WEFT_SEED, WEFT_MAX_STEPS,
// WEFT_TIME_BUDGET); WEFT_REPLAY replays one schedule, so --filter must then
// select exactly one exploration, as the printed replay lines do.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <weft/check/explore.hpp>
#include <weft/check/report.hpp>
#include <weft/check/strategy.hpp>

#include "seeds.hpp"

namespace fs = std::filesystem;
using weft::check::kind;

namespace {

struct settings {
  std::uint64_t budget = 0;  // 0: each program's own
  fs::path out = "out/catalogue";
  std::string filter;
  bool print = false;
  bool quiet = false;
};

void usage(std::FILE* to, const char* argv0) {
  std::fprintf(to,
               "usage: %s [--budget N] [--out DIR] [--filter TEXT] [--print] [--quiet]\n"
               "  explores every seed program (bad version and fixed twin), prints a table of\n"
               "  verdicts and writes each failure's report, Perfetto trace and DOT graph to\n"
               "  DIR/<program>/ (default out/catalogue). --filter keeps the explorations whose\n"
               "  \"program/variant\" contains TEXT. Exit status 1 if a verdict is not the expected one.\n",
               argv0);
}

// One exploration, as the table shows it. The exploration itself runs in a
// child process (explore_isolated), so that a crash in one program leaves the
// others and the table standing.
struct row {
  const seeds::program* program = nullptr;
  seeds::variant variant = seeds::variant::bad;
  kind verdict = kind::ok;
  std::uint64_t iteration = 0;   // the schedule that found it (1-based), 0 if none
  std::uint64_t iterations = 0;  // schedules explored
  bool exhausted = false;
  double seconds = 0;
  std::string replay;  // the command line that replays the failure
  int crash_signal = 0;  // the exploration's process died of this signal
  std::string note;      // why a verdict is missing, when we know

  std::string id() const { return std::string(program->name) + "/" + std::string(seeds::to_string(variant)); }
  bool as_expected() const { return crash_signal == 0 && verdict == program->expected_for(variant); }
};

std::string quote(const std::string& s) {
  if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:") == std::string::npos)
    return s;
  return "'" + s + "'";
}

std::string seconds_text(double s) {
  char buf[32];
  if (s < 1)
    std::snprintf(buf, sizeof buf, "%.0fms", s * 1000);
  else
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

// Why a bad version's verdict did not come, when a probe can tell.
std::string missing_detector(const row& r) {
  if (r.variant != seeds::variant::bad || r.as_expected()) return {};
  const kind want = r.program->expected;
  if (r.crash_signal == 0 && !seeds::detects(want))
    return std::string("no ") + weft::check::to_string(want) + " detector in this build yet (issue 5)";
  return {};
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path.string());
}

// The report files of one exploration: stale ones go first, so the folder
// always describes the last run.
fs::path schedule_path(const settings& s, const row& r) {
  return s.out / std::string(r.program->name) / (std::string(seeds::to_string(r.variant)) + ".schedule");
}

void write_reports(const settings& s, const row& r, const weft::check::report& report) {
  const fs::path dir = s.out / std::string(r.program->name);
  const std::string stem(seeds::to_string(r.variant));
  for (const char* ext : {".txt", ".perfetto.json", ".dot", ".schedule"}) fs::remove(dir / (stem + ext));
  if (report.ok()) return;
  fs::create_directories(dir);
  std::ostringstream header, text, trace, dot;
  header << r.program->title << ", the " << (r.variant == seeds::variant::bad ? "bad version" : "fixed twin")
         << ": seeds::" << r.program->name << "_" << stem << " in examples/seeds/" << r.program->name << ".cpp\n"
         << "  the bug: " << r.program->bug << "\n"
         << "  the fix: " << r.program->fix << "\n"
         << "  expected: " << weft::check::to_string(r.program->expected_for(r.variant))
         << ", found: " << weft::check::to_string(report.kind) << "\n";
  if (weft::check::read_environment().replay)
    header << "  (replayed from WEFT_REPLAY)\n";
  else if (!report.note.empty())
    header << "  (" << report.note << ")\n";
  header << "\n";
  report.write_text(text);
  report.write_perfetto(trace);
  report.write_dot(dot);
  write_file(dir / (stem + ".txt"), header.str() + text.str());
  write_file(dir / (stem + ".perfetto.json"), trace.str());
  write_file(dir / (stem + ".dot"), dot.str());
  write_file(schedule_path(s, r), report.schedule + "\n");
}

// What the child tells the parent, one field per line.
void send(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::string receive(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  return text;
}

// Explore r's program and variant in a child process: it writes the reports
// (and prints the text report when `print`), and sends the row's fields back.
void explore_isolated(const settings& s, const char* argv0, row& r, bool print) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::close(fds[0]);
    int rc = 0;
    try {
      weft::check::options opt = seeds::options_for(*r.program, weft::check::options{});
      if (s.budget != 0) opt.iterations = s.budget;
      weft::check::report report = seeds::explore(*r.program, r.variant, opt);
      std::string replay;
      if (!report.ok()) {
        // A long run (a livelock's) has a long schedule: the line reads it
        // from the file written beside the report.
        const std::string schedule = report.schedule.size() <= 120
                                         ? quote(report.schedule)
                                         : "\"$(cat " + quote(schedule_path(s, r).string()) + ")\"";
        replay = "WEFT_REPLAY=" + schedule + " " + quote(argv0) + " --filter " + r.id();
        report.replay_command = replay;
      }
      write_reports(s, r, report);
      if (print && !report.ok()) std::cout << '\n' << report << std::flush;
      std::ostringstream o;
      o << static_cast<int>(report.kind) << '\n'
        << report.iteration << '\n'
        << report.iterations << '\n'
        << (report.exhausted ? 1 : 0) << '\n'
        << replay << '\n';
      send(fds[1], o.str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s: %s\n", argv0, r.id().c_str(), e.what());
      rc = 2;
    }
    ::close(fds[1]);
    std::fflush(stdout);
    std::_Exit(rc);
  }
  ::close(fds[1]);
  const std::string text = receive(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (WIFSIGNALED(status)) {
    r.crash_signal = WTERMSIG(status);
    return;
  }
  if (WEXITSTATUS(status) != 0) throw std::runtime_error("exploring " + r.id() + " failed");
  std::istringstream in(text);
  int k = 0, exhausted = 0;
  in >> k >> r.iteration >> r.iterations >> exhausted;
  in.ignore(1);
  std::getline(in, r.replay);
  r.verdict = static_cast<kind>(k);
  r.exhausted = exhausted != 0;
}

std::string table(const std::vector<row>& rows) {
  struct cells {
    std::vector<std::string> c;
  };
  std::vector<cells> lines;
  lines.push_back({{"program", "variant", "expected", "verdict", "found at", "schedules", "time", "replay"}});
  for (const row& r : rows) {
    std::string verdict = r.crash_signal != 0 ? std::string("CRASHED (") + strsignal(r.crash_signal) + ")"
                                              : std::string(weft::check::to_string(r.verdict));
    if (r.crash_signal == 0 && !r.as_expected()) verdict += " (MISMATCH)";
    const bool failed = r.crash_signal == 0 && r.verdict != kind::ok;
    lines.push_back({{std::string(r.program->name), std::string(seeds::to_string(r.variant)),
                      weft::check::to_string(r.program->expected_for(r.variant)), verdict,
                      failed ? "#" + std::to_string(r.iteration) : "-",
                      r.crash_signal != 0 ? "?" : std::to_string(r.iterations), seconds_text(r.seconds),
                      failed ? r.replay : (r.exhausted ? "(every schedule tried)" : "")}});
  }
  std::vector<std::size_t> w(lines.front().c.size(), 0);
  for (const auto& l : lines)
    for (std::size_t i = 0; i + 1 < l.c.size(); ++i) w[i] = std::max(w[i], l.c[i].size());
  std::ostringstream o;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    const auto& l = lines[n];
    for (std::size_t i = 0; i < l.c.size(); ++i) {
      o << l.c[i];
      if (i + 1 < l.c.size()) o << std::string(w[i] - l.c[i].size() + 2, ' ');
    }
    o << '\n';
    if (n == 0) {
      std::size_t total = 0;
      for (std::size_t i = 0; i + 1 < w.size(); ++i) total += w[i] + 2;
      o << std::string(total + 6, '-') << '\n';
    }
  }
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--budget" && has_value) {
      char* end = nullptr;
      s.budget = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || s.budget == 0) {
        std::fprintf(stderr, "%s: --budget takes a positive number of schedules, not '%s'\n", argv[0], argv[i]);
        return 2;
      }
    } else if (a == "--out" && has_value) {
      s.out = argv[++i];
    } else if (a == "--filter" && has_value) {
      s.filter = argv[++i];
    } else if (a == "--print") {
      s.print = true;
    } else if (a == "--quiet") {
      s.quiet = true;
    } else if (a == "--help" || a == "-h") {
      usage(stdout, argv[0]);
      return 0;
    } else {
      usage(stderr, argv[0]);
      return 2;
    }
  }

  try {
    const weft::check::environment env = weft::check::read_environment();
    std::vector<row> rows;
    for (const seeds::program& p : seeds::catalogue())
      for (seeds::variant v : {seeds::variant::bad, seeds::variant::fixed}) {
        if ((std::string(p.name) + "/" + std::string(seeds::to_string(v))).find(s.filter) == std::string::npos)
          continue;
        row r;
        r.program = &p;
        r.variant = v;
        rows.push_back(std::move(r));
      }
    if (rows.empty()) {
      std::fprintf(stderr, "%s: no program/variant contains '%s'; the catalogue:", argv[0], s.filter.c_str());
      for (const seeds::program& p : seeds::catalogue()) std::fprintf(stderr, " %s", std::string(p.name).c_str());
      std::fprintf(stderr, "\n");
      return 2;
    }
    if (env.replay && rows.size() != 1) {
      std::fprintf(stderr,
                   "%s: WEFT_REPLAY replays one schedule of one program: narrow --filter to a single\n"
                   "program/variant (e.g. --filter print_sum/bad); it selects %zu now\n",
                   argv[0], rows.size());
      return 2;
    }
    if (!s.quiet)
      std::printf("exploring %zu seed program variant(s) with %s%s...\n", rows.size(),
                  weft::check::to_string(weft::check::options{}.strategy).c_str(),
                  env.replay ? " (replaying WEFT_REPLAY)" : "");
    fs::create_directories(s.out);

    for (row& r : rows) {
      explore_isolated(s, argv[0], r, rows.size() == 1 || s.print);
      r.note = missing_detector(r);
      if (!s.quiet) {
        std::printf("  %-14s %-5s -> %s\n", std::string(r.program->name).c_str(),
                    std::string(seeds::to_string(r.variant)).c_str(),
                    r.crash_signal != 0 ? "CRASHED" : weft::check::to_string(r.verdict));
        std::fflush(stdout);
      }
    }

    const std::string t = table(rows);
    std::ostringstream notes;
    bool all = true;
    for (const row& r : rows) {
      if (r.as_expected()) continue;
      all = false;
      notes << "  " << r.id() << ": expected " << weft::check::to_string(r.program->expected_for(r.variant));
      if (r.crash_signal != 0)
        notes << ", but the exploration crashed (" << strsignal(r.crash_signal) << "): a bug in weft, not in the program";
      else
        notes << ", found " << weft::check::to_string(r.verdict);
      if (!r.note.empty()) notes << " — " << r.note;
      notes << '\n';
    }
    std::string summary = t;
    if (!all) summary += "\nverdicts that differ from the expected ones:\n" + notes.str();
    write_file(s.out / "summary.txt", summary);

    std::cout << '\n' << summary;
    if (!s.quiet) {
      std::cout << "\nreports (text, Perfetto trace for ui.perfetto.dev, DOT wait-for graph): " << s.out.string()
                << "/<program>/<variant>.{txt,perfetto.json,dot}\n";
      std::cout << (all ? "every verdict is the expected one\n" : "SOME VERDICTS DIFFER from the expected ones\n");
    }
    return all ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 2;
  }
}
