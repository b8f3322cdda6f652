#include "explore/schedule.hpp"

#include <string>

#include "weft/check/strategy.hpp"

namespace weft::check::detail {

namespace {

constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::uint32_t fnv1a(const std::string& bytes, std::size_t n) noexcept {
  std::uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(bytes[i]);
    h *= 16777619u;
  }
  return h;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

[[noreturn]] void malformed(const std::string& what) {
  throw config_error("malformed schedule string: " + what +
                     ". Copy the whole string printed after WEFT_REPLAY= (it starts with 'w'), "
                     "quoted, e.g. WEFT_REPLAY='w...'");
}

class reader {
 public:
  explicit reader(const std::string& b, std::size_t end) : b_(b), end_(end) {}
  std::uint64_t varint(const char* field) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (pos_ >= end_) malformed(std::string("it ends in the middle of ") + field + " (was it cut short?)");
      auto byte = static_cast<unsigned char>(b_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    malformed(std::string("an over-long number in ") + field);
  }
  std::uint8_t byte(const char* field) {
    if (pos_ >= end_) malformed(std::string("it ends in the middle of ") + field + " (was it cut short?)");
    return static_cast<std::uint8_t>(b_[pos_++]);
  }
  std::string bytes(std::size_t n, const char* field) {
    if (n > end_ - pos_) malformed(std::string("it ends in the middle of ") + field + " (was it cut short?)");
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool done() const noexcept { return pos_ == end_; }

 private:
  const std::string& b_;
  std::size_t end_;
  std::size_t pos_ = 0;
};

void put_decisions(std::string& p, const std::vector<decision>& ds) {
  put_varint(p, ds.size());
  std::uint64_t prev = 0;
  for (const decision& d : ds) {
    put_varint(p, d.step - prev);
    prev = d.step;
    put_varint(p, static_cast<std::uint64_t>(d.k) << 3 | static_cast<std::uint64_t>(d.kind));
    put_varint(p, d.choice);
    if (d.kind == decision_kind::schedule) p.push_back(static_cast<char>(d.fingerprint));
  }
}

std::vector<decision> get_decisions(reader& r, std::size_t body, const char* whose) {
  const std::uint64_t n = r.varint("the decision count");
  if (n > body) malformed("more decisions than bytes");
  std::vector<decision> out;
  out.reserve(static_cast<std::size_t>(n));
  std::uint64_t step = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    decision d;
    step += r.varint("a decision's step");
    d.step = step;
    const std::uint64_t kk = r.varint("a decision's kind");
    const std::string which = std::string(whose) + "decision #" + std::to_string(i + 1);
    if ((kk & 7) >= decision_kinds) malformed(which + " has an unknown kind");
    d.kind = static_cast<decision_kind>(kk & 7);
    if ((kk >> 3) < 2 || (kk >> 3) > UINT32_MAX) malformed(which + " has an impossible number of options");
    d.k = static_cast<std::uint32_t>(kk >> 3);
    const std::uint64_t c = r.varint("a decision's choice");
    if (c > UINT32_MAX || (d.kind != decision_kind::schedule && c >= d.k))
      malformed(which + " chooses an option that does not exist");
    d.choice = static_cast<std::uint32_t>(c);
    if (d.kind == decision_kind::schedule) d.fingerprint = r.byte("a decision's fingerprint");
    out.push_back(d);
  }
  return out;
}

}  // namespace

std::string encode_schedule(const schedule& s) {
  std::string p;
  p.push_back(static_cast<char>(s.witnesses.empty() ? 1 : 2));
  put_varint(p, weft::detail::op_list_version);
  put_varint(p, s.seed);
  put_varint(p, s.iteration);
  put_varint(p, s.max_steps);
  put_varint(p, static_cast<std::uint64_t>(s.jitter_ns < 0 ? 0 : s.jitter_ns));
  put_varint(p, static_cast<std::uint64_t>(s.outcome));
  put_varint(p, s.steps);
  put_varint(p, s.finder.size());
  p += s.finder;
  put_decisions(p, s.decisions);
  if (!s.witnesses.empty()) {
    put_varint(p, s.witnesses.size());
    for (const witness_run& w : s.witnesses) {
      put_varint(p, w.iteration);
      put_decisions(p, w.decisions);
    }
  }
  std::uint32_t h = fnv1a(p, p.size());
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<char>((h >> (8 * i)) & 0xff));

  std::string out = "w";
  out.reserve(1 + (p.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= p.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(p[i]) << 16 | static_cast<unsigned char>(p[i + 1]) << 8 |
                      static_cast<unsigned char>(p[i + 2]);
    out += b64[v >> 18];
    out += b64[(v >> 12) & 63];
    out += b64[(v >> 6) & 63];
    out += b64[v & 63];
  }
  if (p.size() - i == 1) {
    std::uint32_t v = static_cast<unsigned char>(p[i]) << 16;
    out += b64[v >> 18];
    out += b64[(v >> 12) & 63];
  } else if (p.size() - i == 2) {
    std::uint32_t v = static_cast<unsigned char>(p[i]) << 16 | static_cast<unsigned char>(p[i + 1]) << 8;
    out += b64[v >> 18];
    out += b64[(v >> 12) & 63];
    out += b64[(v >> 6) & 63];
  }
  return out;
}

schedule decode_schedule(std::string_view text) {
  // Tolerate what shells and terminals add around a pasted value.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\'' || text.front() == '"' ||
                           text.front() == '\n' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\'' || text.back() == '"' ||
                           text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  if (text.empty()) malformed("it is empty");
  if (text.front() != 'w') malformed("it does not start with 'w'");
  text.remove_prefix(1);
  if (text.size() % 4 == 1) malformed("its length is impossible for base64 (was it cut short?)");

  std::string p;
  p.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int v = b64_value(text[i]);
    if (v < 0)
      malformed("character '" + std::string(1, text[i]) + "' at position " + std::to_string(i + 2) +
                " is not base64url (A-Z a-z 0-9 - _)");
    acc = acc << 6 | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      p.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (p.size() < 5) malformed("it is too short to hold a schedule");
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[p.size() - 4 + i])) << (8 * i);
  const std::size_t body = p.size() - 4;

  const auto version = static_cast<unsigned char>(p[0]);
  if (version != 1 && version != 2) {
    if (fnv1a(p, body) != stored) malformed("its checksum does not match (was it cut short or edited?)");
    throw config_error("schedule string format version " + std::to_string(version) +
                       " is not one this weft reads (1 to " + std::to_string(schedule_format_version) +
                       "): replay it with the weft build that printed it, or re-run the exploration "
                       "(WEFT_SEED) to get a schedule for this build");
  }
  if (fnv1a(p, body) != stored) malformed("its checksum does not match (was it cut short or edited?)");

  reader r(p, body);
  r.byte("the format version");
  const std::uint64_t ops = r.varint("the op-list version");
  if (ops != weft::detail::op_list_version)
    throw config_error("the schedule was recorded by a weft whose list of interleaving points is version " +
                       std::to_string(ops) + "; this build's is version " +
                       std::to_string(weft::detail::op_list_version) +
                       ", so the same decisions would mean a different run. Re-run the exploration (same "
                       "WEFT_SEED and strategy) with this build to get a schedule it can replay");
  schedule s;
  s.seed = r.varint("the seed");
  s.iteration = r.varint("the iteration");
  s.max_steps = r.varint("max_steps");
  s.jitter_ns = static_cast<std::int64_t>(r.varint("the jitter"));
  const std::uint64_t outcome = r.varint("the outcome");
  if (outcome > static_cast<std::uint64_t>(check::kind::nondeterminism)) malformed("an unknown outcome kind");
  s.outcome = static_cast<check::kind>(outcome);
  s.steps = r.varint("the step count");
  const std::uint64_t name_len = r.varint("the strategy name");
  if (name_len > 64) malformed("an over-long strategy name");
  s.finder = r.bytes(static_cast<std::size_t>(name_len), "the strategy name");
  s.decisions = get_decisions(r, body, "");
  if (s.steps < (s.decisions.empty() ? 0 : s.decisions.back().step)) malformed("a decision after the last step");
  if (version == 2) {
    const std::uint64_t w = r.varint("the witness count");
    if (w == 0 || w > body) malformed("an impossible number of witness runs");
    for (std::uint64_t i = 0; i < w; ++i) {
      witness_run run;
      run.iteration = r.varint("a witness run's iteration");
      run.decisions = get_decisions(r, body, ("witness run #" + std::to_string(i + 1) + "'s ").c_str());
      s.witnesses.push_back(std::move(run));
    }
  }
  if (!r.done()) malformed("bytes left over after the last decision");
  return s;
}

}  // namespace weft::check::detail
