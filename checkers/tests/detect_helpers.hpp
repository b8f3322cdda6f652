// Shared scaffolding for the detectors' tests (detect_*_test.cpp): every test
// runs under each strategy of issue 5 (random, PCT, DFS), explores through one
// call site (so a replay's report, which names the main goroutine's creation
// site, is byte for byte the original), and checks reports against the lines
// the programs record.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <weft/check.hpp>
#include <weft/weft.hpp>

#include "helpers.hpp"

namespace detect_test {

using weft::check::kind;
using weft::check::report;

// "file:line", as reports print sites.
inline std::string site_of(const weft::source_location& s) {
  return std::string(s.file_name() != nullptr ? s.file_name() : "?") + ":" + std::to_string(s.line());
}

// One strategy, named for the test's parameter.
struct strategy_param {
  const char* name;
  weft::check::strategy strategy;
};
inline void PrintTo(const strategy_param& p, std::ostream* out) { *out << p.name; }

inline std::vector<strategy_param> every_strategy() {
  return {{"random", weft::check::random{}}, {"pct", weft::check::pct{}}, {"dfs", weft::check::dfs{}}};
}

inline std::string param_name(const ::testing::TestParamInfo<strategy_param>& info) { return info.param.name; }

// A test run once per strategy: `opts(n)` gives options for n schedules under
// it, independent of the WEFT_* environment.
class strategy_test : public ::testing::TestWithParam<strategy_param> {
 protected:
  weft::check::options opts(std::uint64_t iterations) const {
    return explore_test::opts(GetParam().strategy, iterations);
  }
  const char* strategy_name() const { return GetParam().name; }
};

// The one call site of explore (see above).
template <class F>
report explore(const weft::check::options& o, F& body) {
  return weft::check::explore(o, body);
}

// Replaying r's schedule reproduces r exactly. `o` supplies the detector
// settings the original exploration used.
template <class F>
void expect_replays(const report& r, F& body, weft::check::options o) {
  ASSERT_FALSE(r.schedule.empty()) << r;
  o.strategy = weft::check::replay{r.schedule};
  o.iterations = 1;
  const report again = explore(o, body);
  EXPECT_EQ(again.kind, r.kind) << again;
  EXPECT_EQ(again.text(), r.text());
}

// Program lines, recorded by the programs as they run (one explorer thread).
struct lines_t {
  int a = 0, b = 0, c = 0, d = 0;
};
inline lines_t lines;

inline unsigned line(int l) { return static_cast<unsigned>(l); }

inline bool ends_with(const char* s, const std::string& suffix) {
  const std::string a = s != nullptr ? s : "";
  return a.size() >= suffix.size() && a.compare(a.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline const weft::check::goroutine_info* find_goroutine(const report& r, std::uint64_t id) {
  for (const auto& g : r.goroutines)
    if (g.id == id) return &g;
  return nullptr;
}

inline const weft::check::detail_section* find_section(const report& r, const std::string& title_part) {
  for (const auto& d : r.details)
    if (contains(d.title, title_part)) return &d;
  return nullptr;
}

// All of a section's lines, one per line.
inline std::string section_text(const report& r, const std::string& title_part) {
  const auto* d = find_section(r, title_part);
  if (d == nullptr) return {};
  std::string out;
  for (const auto& l : d->lines) out += l + "\n";
  return out;
}

inline std::string dot(const report& r) {
  std::ostringstream o;
  r.write_dot(o);
  return o.str();
}

// A strict-enough check that a DOT text is one well-formed digraph: it opens
// with "digraph NAME {" and ends with "}", braces and brackets balance, quotes
// close, every statement ends with ';', and every edge's endpoints are nodes
// declared before it. Returns an empty string when well formed, else why not.
inline std::string dot_problem(const std::string& d) {
  std::istringstream in(d);
  std::string l;
  if (!std::getline(in, l) || l.rfind("digraph ", 0) != 0 || l.back() != '{') return "no 'digraph NAME {' first line";
  std::vector<std::string> nodes;
  bool closed = false;
  // The node id at the start of `s` (a quoted string or a bare word).
  auto id_at = [](const std::string& s, std::size_t& i) {
    std::string id;
    if (i < s.size() && s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
        if (i < s.size()) id += s[i];
      }
      ++i;
      return "\"" + id + "\"";
    }
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) id += s[i++];
    return id;
  };
  while (std::getline(in, l)) {
    if (closed) return "text after the closing brace: " + l;
    if (l == "}") {
      closed = true;
      continue;
    }
    std::size_t i = l.find_first_not_of(' ');
    if (i == std::string::npos) continue;
    int quotes = 0, brackets = 0;
    for (std::size_t k = 0; k < l.size(); ++k) {
      if (l[k] == '\\') {
        ++k;
        continue;
      }
      if (l[k] == '"') ++quotes;
      if (quotes % 2 == 0 && l[k] == '[') ++brackets;
      if (quotes % 2 == 0 && l[k] == ']') --brackets;
    }
    if (quotes % 2 != 0) return "unbalanced quotes: " + l;
    if (brackets != 0) return "unbalanced brackets: " + l;
    if (l.back() != ';') return "a statement without ';': " + l;
    const std::string first = id_at(l, i);
    if (first == "node" || first == "edge" || first == "graph" || l.compare(i, 1, "=") == 0) continue;
    if (first.empty()) return "no node id: " + l;
    if (l.compare(i, 4, " -> ") == 0) {
      i += 4;
      const std::string second = id_at(l, i);
      for (const std::string& n : {first, second})
        if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) return "edge to undeclared node " + n + ": " + l;
      continue;
    }
    nodes.push_back(first);
  }
  return closed ? std::string() : "no closing brace";
}

}  // namespace detect_test
