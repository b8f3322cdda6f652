// The WEFT_* environment: the only place weft reads it (STYLE.md 6).
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weft/check/explore.hpp"
#include "weft/check/strategy.hpp"

namespace weft::check {

namespace {

constexpr std::uint64_t builtin_iterations = 1000;
constexpr std::uint64_t builtin_seed = 0x5eed;
constexpr std::uint64_t builtin_max_steps = 100000;
constexpr std::uint64_t builtin_livelock_window = 20000;
constexpr std::uint64_t builtin_starvation_threshold = 64;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A whole number, decimal or 0x-hex.
bool parse_u64(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.front() == '-' || s.front() == '+') return false;
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, hex ? 16 : 10);
  if (errno != 0 || end == s.c_str() || *end != '\0') return false;
  out = v;
  return true;
}

std::uint64_t env_u64(const char* var, const char* raw, bool allow_zero, const char* example) {
  std::uint64_t v = 0;
  const std::string s = trim(raw);
  if (!parse_u64(s, v))
    throw config_error(std::string(var) + "='" + raw + "' is not a whole number: write e.g. " + var + "=" + example);
  if (v == 0 && !allow_zero)
    throw config_error(std::string(var) + "=0 is not allowed: it must be at least 1 (e.g. " + var + "=" + example +
                       ")");
  return v;
}

std::chrono::nanoseconds env_duration(const char* var, const char* raw) {
  const std::string s = lower(trim(raw));
  auto bad = [&] {
    return config_error(std::string(var) + "='" + raw +
                        "' is not a duration: write a number with a unit, e.g. 500ms, 10s or 2m "
                        "(a bare number means seconds; 0 means no budget)");
  };
  if (s.empty()) throw bad();
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) throw bad();
  const std::string num = s.substr(0, i);
  const std::string unit = trim(s.substr(i));
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(num.c_str(), &end);
  if (errno != 0 || end != num.c_str() + num.size() || !std::isfinite(v) || v < 0) throw bad();
  double scale;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "m" || unit == "min")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else
    throw bad();
  const double ns = v * scale;
  if (ns > 9.2e18) throw bad();
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

// WEFT_DETECT: "all", "none", or a comma list of detector names, each
// optionally prefixed with '-' (off) or '+' (on). A list of bare names turns
// on exactly those; one that only has '-' entries starts from "all".
void parse_detect(const char* raw, environment& env) {
  struct entry {
    const char* name;
    std::optional<bool> environment::*field;
  };
  static constexpr entry table[] = {
      {"race", &environment::race},         {"deadlock", &environment::deadlock},
      {"lock_order", &environment::lock_order}, {"livelock", &environment::livelock},
      {"starvation", &environment::starvation}, {"leak", &environment::leak},
  };
  auto bad = [&](const std::string& why) {
    return config_error("WEFT_DETECT='" + std::string(raw) + "': " + why +
                        ". Write all, none, or a comma list of race, deadlock, lock_order, livelock, starvation, "
                        "leak, each optionally prefixed with '-' to turn it off (e.g. WEFT_DETECT=-lock_order)");
  };
  const std::string all = lower(trim(raw));
  auto set_all = [&](bool on) {
    for (const entry& e : table) env.*(e.field) = on;
  };
  if (all == "all") return set_all(true);
  if (all == "none") return set_all(false);
  std::vector<std::pair<std::string, bool>> items;
  bool any_plain = false;
  std::size_t pos = 0;
  while (pos <= all.size()) {
    const std::size_t comma = std::min(all.find(',', pos), all.size());
    std::string item = trim(std::string_view(all).substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) throw bad("an empty entry");
    bool on = true;
    if (item[0] == '-' || item[0] == '+') {
      on = item[0] == '+';
      item = trim(std::string_view(item).substr(1));
    } else {
      any_plain = true;
    }
    items.emplace_back(item, on);
  }
  set_all(!any_plain);
  for (const auto& [name, on] : items) {
    const entry* e = nullptr;
    for (const entry& t : table)
      if (name == t.name) e = &t;
    if (e == nullptr) throw bad("unknown detector '" + name + "'");
    env.*(e->field) = on;
  }
}

const char* get(const char* var) {
  const char* v = std::getenv(var);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

std::string to_string(const strategy& s) {
  struct visitor {
    std::string operator()(const portfolio&) const { return "portfolio"; }
    std::string operator()(const random&) const { return "random"; }
    std::string operator()(const pct& p) const { return "pct:" + std::to_string(p.depth); }
    std::string operator()(const dfs& d) const {
      return d.preemption_bound ? "dfs:" + std::to_string(*d.preemption_bound) : std::string("dfs");
    }
    std::string operator()(const replay&) const { return "replay"; }
  };
  return std::visit(visitor{}, s);
}

strategy parse_strategy(std::string_view text) {
  const std::string t = lower(trim(text));
  const auto colon = t.find(':');
  const std::string name = t.substr(0, colon);
  const bool has_arg = colon != std::string::npos;
  const std::string arg = has_arg ? t.substr(colon + 1) : std::string();
  auto bad = [&](const std::string& why) {
    return config_error("strategy '" + std::string(text) + "': " + why +
                        ". Write one of: random, pct, pct:<depth>, dfs, dfs:<preemption bound>, portfolio, "
                        "replay (with the schedule in WEFT_REPLAY)");
  };
  auto number = [&](const char* what) -> unsigned {
    std::uint64_t v = 0;
    if (!parse_u64(arg, v) || v > 1000) throw bad(std::string("the ") + what + " must be a small whole number");
    return static_cast<unsigned>(v);
  };
  if (name == "random" && !has_arg) return random{};
  if (name == "portfolio" && !has_arg) return portfolio{};
  if (name == "pct") {
    if (!has_arg) return pct{};
    unsigned d = number("depth");
    if (d == 0) throw bad("the depth must be at least 1");
    return pct{.depth = d};
  }
  if (name == "dfs") {
    if (!has_arg) return dfs{};
    return dfs{.preemption_bound = number("preemption bound")};
  }
  if (name == "replay" && !has_arg) return replay{};
  if (name == "random" || name == "portfolio" || name == "replay") throw bad("it takes no parameter");
  throw bad("unknown strategy");
}

environment read_environment() {
  environment env;
  if (const char* v = get("WEFT_STRATEGY")) {
    try {
      env.strategy = parse_strategy(v);
    } catch (const config_error& e) {
      throw config_error(std::string("WEFT_STRATEGY: ") + e.what());
    }
  }
  if (const char* v = get("WEFT_ITERATIONS")) env.iterations = env_u64("WEFT_ITERATIONS", v, false, "1000");
  if (const char* v = get("WEFT_SEED")) env.seed = env_u64("WEFT_SEED", v, true, "12345 or 0x3039");
  if (const char* v = get("WEFT_REPLAY")) env.replay = std::string(v);
  if (const char* v = get("WEFT_MAX_STEPS")) env.max_steps = env_u64("WEFT_MAX_STEPS", v, false, "100000");
  if (const char* v = get("WEFT_TIME_BUDGET")) env.time_budget = env_duration("WEFT_TIME_BUDGET", v);
  if (const char* v = get("WEFT_DETECT")) parse_detect(v, env);
  if (const char* v = get("WEFT_LIVELOCK_WINDOW"))
    env.livelock_window = env_u64("WEFT_LIVELOCK_WINDOW", v, false, "20000");
  if (const char* v = get("WEFT_STARVATION_THRESHOLD"))
    env.starvation_threshold = env_u64("WEFT_STARVATION_THRESHOLD", v, false, "64");
  if (env.strategy && std::holds_alternative<replay>(*env.strategy)) {
    if (!env.replay)
      throw config_error(
          "WEFT_STRATEGY=replay needs the schedule to replay in WEFT_REPLAY (WEFT_REPLAY alone is enough)");
    env.strategy = replay{*env.replay};
  }
  return env;
}

namespace detail {

strategy default_strategy() { return read_environment().strategy.value_or(portfolio{}); }
std::uint64_t default_iterations() { return read_environment().iterations.value_or(builtin_iterations); }
std::uint64_t default_seed() { return read_environment().seed.value_or(builtin_seed); }
std::uint64_t default_max_steps() { return read_environment().max_steps.value_or(builtin_max_steps); }
std::chrono::nanoseconds default_time_budget() {
  return read_environment().time_budget.value_or(std::chrono::nanoseconds(0));
}
bool default_detect(check::kind k) {
  const environment env = read_environment();
  switch (k) {
    case check::kind::race:
      return env.race.value_or(true);
    case check::kind::deadlock:
      return env.deadlock.value_or(true);
    case check::kind::lock_order:
      return env.lock_order.value_or(true);
    case check::kind::livelock:
      return env.livelock.value_or(true);
    case check::kind::starvation:
      return env.starvation.value_or(true);
    case check::kind::leak:
      return env.leak.value_or(true);
    default:
      return true;
  }
}
std::uint64_t default_livelock_window() { return read_environment().livelock_window.value_or(builtin_livelock_window); }
std::uint64_t default_starvation_threshold() {
  return read_environment().starvation_threshold.value_or(builtin_starvation_threshold);
}

}  // namespace detail

}  // namespace weft::check
