// random, pct, dfs, portfolio, replay, guided: the strategy implementations.
#include "explore/strategies.hpp"

#include <algorithm>
#include <sstream>
#include <tuple>

#include "explore/rng.hpp"

namespace weft::check::detail {

namespace {

// ------------------------------------------------------------------ random

class random_impl final : public strategy_impl {
 public:
  explicit random_impl(std::uint64_t seed) : seed_(seed) {}
  bool begin(std::uint64_t iteration) override {
    r_ = rng::for_iteration(seed_, iteration);
    return true;
  }
  std::uint32_t choose(const decision_point& d) override { return r_.below(d.k); }
  std::string name() const override { return "random"; }

 private:
  std::uint64_t seed_;
  rng r_;
};

// ------------------------------------------------------------------ pct
//
// Priorities live per goroutine id (ids are deterministic per run). Initial
// priorities are random values in the top band; change point i (i = 1..d-1)
// drops the goroutine that took that step to priority i of a lower band, below
// every initial priority, as in the paper. A yield (or a sleep for no time)
// drops the yielder below everyone (PCT's treatment of yields, as in Coyote):
// a goroutine that waits for another by spinning lets it run. Change points
// are placed over schedule decisions (steps with a choice): a change point at a
// step without a choice could not change anything. The decision count k is
// learned: the most any earlier iteration needed (64 before the first).

class pct_impl final : public strategy_impl {
 public:
  pct_impl(std::uint64_t seed, unsigned depth) : seed_(seed), depth_(std::max(1u, depth)) {}

  bool begin(std::uint64_t iteration) override {
    r_ = rng::for_iteration(seed_, iteration, 1);
    prio_.clear();
    heap_.clear();
    in_runq_.clear();
    count_ = 0;
    yield_floor_ = change_band;
    changes_.clear();
    const std::uint64_t k = estimate_ != 0 ? estimate_ : 64;
    for (unsigned label = 1; label < depth_; ++label) changes_.push_back({r_.between(1, k), label});
    return true;
  }

  bool tracks_runq() const noexcept override { return true; }
  void runq_changed(std::uint32_t id, bool added) override {
    if (id >= in_runq_.size()) in_runq_.resize(id + 1, 0);
    in_runq_[id] = added ? 1 : 0;
    if (added) push(id);
  }

  std::uint32_t choose(const decision_point& d) override {
    if (d.kind != decision_kind::schedule) return r_.below(d.k);
    ++count_;
    if (d.yielded && d.last != 0) demote(d.last, --yield_floor_);
    for (const auto& c : changes_)
      if (c.at == count_ && d.last != 0) demote(d.last, change_band + c.label);
    if (!d.whole_runq) {
      // A filtered set (fairness): look at every candidate.
      std::uint32_t best = 0;
      std::uint64_t best_p = 0;
      for (std::uint32_t i = 0; i < d.k; ++i) {
        const std::uint64_t p = priority(d.id(i));
        if (p > best_p) {
          best_p = p;
          best = i;
        }
      }
      return best;
    }
    // The run queue's best is the heap's top once stale entries (goroutines
    // that left the queue, priorities changed since) are dropped.
    while (!heap_.empty()) {
      const auto [p, id] = heap_.front();
      if (id < in_runq_.size() && in_runq_[id] != 0 && priority(id) == p) break;
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.pop_back();
    }
    std::uint32_t best_id = heap_.empty() ? 0 : heap_.front().second;
    std::uint64_t best_p = heap_.empty() ? 0 : heap_.front().first;
    if (d.extra_pos < d.k && (best_id == 0 || priority(d.extra) > best_p)) best_id = d.extra;
    const std::uint32_t i = d.find(best_id);
    return i < d.k ? i : 0;
  }

  bool end(std::size_t) override {
    estimate_ = std::max(estimate_, count_);
    return true;
  }

  std::string name() const override { return "pct:" + std::to_string(depth_); }

 private:
  struct change {
    std::uint64_t at;
    std::uint64_t label;
  };
  // Bands: initial priorities in [2^62, 2^63) (random: distinct in practice),
  // change-point labels just above 2^61, yields counting down from 2^61.
  static constexpr std::uint64_t initial_band = std::uint64_t(1) << 62;
  static constexpr std::uint64_t change_band = std::uint64_t(1) << 61;
  std::uint64_t& priority(std::uint32_t id) {
    if (id >= prio_.size()) prio_.resize(id + 1, 0);
    std::uint64_t& p = prio_[id];
    if (p == 0) p = initial_band + (r_.next() >> 2);
    return p;
  }
  void demote(std::uint32_t id, std::uint64_t to) {
    priority(id) = to;
    if (id < in_runq_.size() && in_runq_[id] != 0) push(id);
  }
  void push(std::uint32_t id) {
    heap_.push_back({priority(id), id});
    std::push_heap(heap_.begin(), heap_.end());
  }

  std::uint64_t seed_;
  unsigned depth_;
  rng r_;
  std::vector<std::uint64_t> prio_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> heap_;  // (priority, id), max-heap, lazily pruned
  std::vector<char> in_runq_;
  std::vector<change> changes_;
  std::uint64_t count_ = 0;
  std::uint64_t estimate_ = 0;
  std::uint64_t yield_floor_ = change_band;
};

// ------------------------------------------------------------------ dfs
//
// Stateless DFS over the decision tree: `stack_` is the path of the last run;
// the next run follows it up to its deepest node with an untried option, takes
// that option, and goes on with first options. Options of a schedule decision
// are ordered "keep running the current goroutine" first, then the others by
// id. At preemption level L a node whose prefix already holds L preemptions
// offers only the current goroutine (CHESS's iterative context bounding); a
// level that needed no such pruning has covered the whole tree. Runs at level
// L with fewer than L preemptions were already run at a lower level: they are
// reported as repeats and not counted.

class dfs_impl final : public strategy_impl {
 public:
  explicit dfs_impl(std::optional<unsigned> bound) : bound_(bound) {}

  bool begin(std::uint64_t) override {
    if (exhausted_) return false;
    depth_ = 0;
    preemptions_ = 0;
    div_.clear();
    return true;
  }

  std::uint32_t choose(const decision_point& d) override {
    const std::int32_t cur = d.kind == decision_kind::schedule ? d.current : -1;
    if (depth_ < stack_.size()) {
      node& n = stack_[depth_];
      if (n.k != d.k || n.kind != d.kind || n.current != cur) {
        if (div_.empty()) {
          std::ostringstream m;
          m << "dfs: replaying the explored prefix, decision #" << depth_ + 1 << " at step " << d.step
            << " offered " << d.k << " options (" << to_string(d.kind) << ") where an earlier run with the same "
            << "choices offered " << n.k << " (" << to_string(n.kind)
            << "): the program does something weft does not control (wall clock, real threads, "
               "unseeded randomness, address-dependent order)";
          div_ = m.str();
        }
        ++depth_;
        return 0;
      }
    } else {
      node n;
      n.k = d.k;
      n.kind = d.kind;
      n.current = cur;
      n.pos = 0;
      n.allowed = d.k;
      if (cur >= 0 && preemptions_ >= level_) {
        n.allowed = 1;
        pruned_ = true;
      }
      stack_.push_back(n);
    }
    node& n = stack_[depth_++];
    std::uint32_t index = n.pos;
    if (n.current >= 0) {
      // pos 0: the current goroutine; pos p > 0: the p-th other one by id.
      const auto c = static_cast<std::uint32_t>(n.current);
      index = n.pos == 0 ? c : (n.pos - 1 < c ? n.pos - 1 : n.pos);
      if (index != c) ++preemptions_;
    }
    return index;
  }

  bool end(std::size_t) override {
    const bool repeat = level_ > 0 && preemptions_ < level_;
    if (!div_.empty()) {
      exhausted_ = true;  // the tree is not a tree: stop
      return !repeat;
    }
    stack_.resize(std::min(stack_.size(), depth_));
    while (!stack_.empty() && stack_.back().pos + 1 >= stack_.back().allowed) stack_.pop_back();
    if (!stack_.empty()) {
      ++stack_.back().pos;
    } else if (!pruned_) {
      exhausted_ = true;
      complete_ = true;
    } else if (bound_ && level_ >= *bound_) {
      exhausted_ = true;
    } else {
      ++level_;
      pruned_ = false;
    }
    if (!repeat) ++distinct_;
    return !repeat;
  }

  const std::string& divergence() const noexcept override { return div_; }
  bool exhausted() const noexcept override { return exhausted_; }
  std::string summary() const override {
    if (!exhausted_ || !div_.empty()) return {};
    std::ostringstream m;
    if (complete_)
      m << "dfs explored the whole schedule space: " << distinct_ << " schedule(s)";
    else
      m << "dfs explored every schedule with at most " << level_ << " preemption(s): " << distinct_
        << " schedule(s)";
    return m.str();
  }
  std::string name() const override {
    return bound_ ? "dfs:" + std::to_string(*bound_) : std::string("dfs");
  }

 private:
  struct node {
    std::uint32_t k = 0;
    std::uint32_t pos = 0;
    std::uint32_t allowed = 0;
    std::int32_t current = -1;
    decision_kind kind = decision_kind::schedule;
  };
  std::optional<unsigned> bound_;
  std::vector<node> stack_;
  std::size_t depth_ = 0;
  unsigned preemptions_ = 0;
  unsigned level_ = 0;
  bool pruned_ = false;
  bool exhausted_ = false;
  bool complete_ = false;
  std::uint64_t distinct_ = 0;
  std::string div_;
};

// ------------------------------------------------------------------ portfolio

class portfolio_impl final : public strategy_impl {
 public:
  explicit portfolio_impl(std::uint64_t seed) : pct_(seed, 3), random_(seed ^ 0x5ca1ab1e) {}
  bool begin(std::uint64_t iteration) override {
    active_ = iteration % 2 == 1 ? static_cast<strategy_impl*>(&pct_) : &random_;
    return active_->begin(iteration);
  }
  std::uint32_t choose(const decision_point& d) override { return active_->choose(d); }
  bool end(std::size_t n) override { return active_->end(n); }
  std::string name() const override { return active_->name(); }
  bool tracks_runq() const noexcept override { return active_->tracks_runq(); }
  void runq_changed(std::uint32_t id, bool added) override { active_->runq_changed(id, added); }

 private:
  pct_impl pct_;
  random_impl random_;
  strategy_impl* active_ = &pct_;
};

// ------------------------------------------------------------------ replay

std::string describe_ids(const decision_point& d) {
  std::ostringstream m;
  for (std::uint32_t i = 0; i < d.k && i < 32; ++i) m << (i ? ", " : "") << d.id(i);
  if (d.k > 32) m << ", ...";
  return m.str();
}

class replay_impl final : public strategy_impl {
 public:
  explicit replay_impl(std::vector<decision> recs) : recs_(std::move(recs)) {}

  bool begin(std::uint64_t) override {
    if (done_) return false;
    done_ = true;
    return true;
  }

  std::uint32_t choose(const decision_point& d) override {
    if (!div_.empty()) return 0;
    const std::size_t i = idx_++;
    std::ostringstream m;
    if (i >= recs_.size()) {
      m << "the run needs a decision at step " << d.step << " (" << what(d)
        << ") but the schedule ends after " << recs_.size() << " decision(s)";
      return diverge(m.str());
    }
    const decision& r = recs_[i];
    std::uint32_t index = 0;
    bool found = r.kind != decision_kind::schedule || find(d, r.choice, index);
    if (r.kind == d.kind && r.step == d.step && r.k == d.k &&
        (r.kind != decision_kind::schedule || (r.fingerprint == d.fingerprint && found))) {
      return r.kind == decision_kind::schedule ? index : r.choice;
    }
    m << "decision #" << i + 1 << ": the recorded run made it at step " << r.step << " (" << to_string(r.kind)
      << " among " << r.k << ", chose " << (r.kind == decision_kind::schedule ? "goroutine " : "")
      << r.choice << "); this run reached decision #" << i + 1 << " at step " << d.step << " (" << what(d) << ")";
    if (r.kind == decision_kind::schedule && d.kind == decision_kind::schedule && r.k == d.k &&
        r.step == d.step)
      m << (found ? ": the same number of goroutines is runnable, but not the same ones"
                  : ": goroutine " + std::to_string(r.choice) + " is not runnable here");
    return diverge(m.str());
  }

  bool end(std::size_t decisions) override {
    if (div_.empty() && idx_ < recs_.size()) {
      std::ostringstream m;
      m << "the run ended after " << idx_ << " decision(s); the schedule holds " << recs_.size()
        << " (the next one was due at step " << recs_[idx_].step << ")";
      div_ = m.str();
    }
    return true;
  }

  const std::string& divergence() const noexcept override { return div_; }
  std::string name() const override { return "replay"; }

 private:
  static std::string what(const decision_point& d) {
    std::ostringstream m;
    m << to_string(d.kind) << " among " << d.k;
    if (d.kind == decision_kind::schedule) m << ": runnable goroutines " << describe_ids(d);
    return m.str();
  }
  static bool find(const decision_point& d, std::uint32_t id, std::uint32_t& index) {
    if (d.kind != decision_kind::schedule) return false;
    index = d.find(id);
    return index < d.k;
  }
  std::uint32_t diverge(std::string why) {
    div_ = "replay diverged from the schedule: " + std::move(why) +
           ". Something in the program is not controlled by weft (wall clock, real threads, "
           "unseeded randomness, address-dependent order, state kept between iterations), or the "
           "schedule comes from a different build of the program.";
    return 0;
  }

  std::vector<decision> recs_;
  std::size_t idx_ = 0;
  bool done_ = false;
  std::string div_;
};

class guided_impl final : public strategy_impl {
 public:
  explicit guided_impl(std::vector<decision> recs) : recs_(std::move(recs)) {}
  bool begin(std::uint64_t) override {
    idx_ = 0;
    return true;
  }
  std::uint32_t choose(const decision_point& d) override {
    const std::size_t i = idx_++;
    if (i < recs_.size() && recs_[i].kind == d.kind) {
      const decision& r = recs_[i];
      if (d.kind == decision_kind::schedule) {
        if (const std::uint32_t j = d.find(r.choice); j < d.k) return j;
      } else if (r.choice < d.k) {
        return r.choice;
      }
    }
    if (d.kind == decision_kind::schedule && d.current >= 0) return static_cast<std::uint32_t>(d.current);
    return 0;
  }
  std::string name() const override { return "guided"; }

 private:
  std::vector<decision> recs_;
  std::size_t idx_ = 0;
};

std::uint32_t default_choice(const decision_point& d) {
  return d.kind == decision_kind::schedule && d.current >= 0 ? static_cast<std::uint32_t>(d.current) : 0;
}

bool directive_less(const directive& a, const directive& b) {
  return std::tie(a.by, a.local, a.kind, a.sub) < std::tie(b.by, b.local, b.kind, b.sub);
}

class directed_impl final : public strategy_impl {
 public:
  explicit directed_impl(std::vector<directive> ds) : ds_(std::move(ds)) {
    std::sort(ds_.begin(), ds_.end(), directive_less);
  }
  bool begin(std::uint64_t) override {
    prev_by_ = UINT32_MAX;
    return true;
  }
  std::uint32_t choose(const decision_point& d) override {
    if (d.last == prev_by_ && d.local == prev_local_ && d.kind == prev_kind_) {
      ++sub_;
    } else {
      sub_ = 0;
      prev_by_ = d.last;
      prev_local_ = d.local;
      prev_kind_ = d.kind;
    }
    const directive key{d.kind, d.last, d.local, sub_, 0};
    auto it = std::lower_bound(ds_.begin(), ds_.end(), key, directive_less);
    if (it != ds_.end() && !directive_less(key, *it)) {
      if (d.kind == decision_kind::schedule) {
        if (const std::uint32_t i = d.find(it->choice); i < d.k) return i;
      } else if (it->choice < d.k) {
        return it->choice;
      }
    }
    return default_choice(d);
  }
  std::string name() const override { return "directed"; }

 private:
  std::vector<directive> ds_;
  std::uint32_t prev_by_ = UINT32_MAX;
  std::uint64_t prev_local_ = 0;
  decision_kind prev_kind_ = decision_kind::schedule;
  std::uint32_t sub_ = 0;
};

}  // namespace

std::vector<directive> directives_of(const std::vector<decision>& decisions) {
  std::vector<directive> out;
  std::uint32_t prev_by = UINT32_MAX, sub = 0;
  std::uint64_t prev_local = 0;
  decision_kind prev_kind = decision_kind::schedule;
  for (const decision& d : decisions) {
    if (d.by == prev_by && d.local == prev_local && d.kind == prev_kind) {
      ++sub;
    } else {
      sub = 0;
      prev_by = d.by;
      prev_local = d.local;
      prev_kind = d.kind;
    }
    if (!d.is_default) out.push_back({d.kind, d.by, d.local, sub, d.choice});
  }
  return out;
}

std::unique_ptr<strategy_impl> make_directed(std::vector<directive> directives) {
  return std::make_unique<directed_impl>(std::move(directives));
}

const char* to_string(decision_kind k) noexcept {
  switch (k) {
    case decision_kind::schedule:
      return "schedule";
    case decision_kind::random:
      return "select";
    case decision_kind::jitter:
      return "jitter";
    case decision_kind::timer:
      return "timer order";
    case decision_kind::user:
      return "choose";
  }
  return "?";
}

std::unique_ptr<strategy_impl> make_strategy(const strategy& s, std::uint64_t seed) {
  struct visitor {
    std::uint64_t seed;
    std::unique_ptr<strategy_impl> operator()(const portfolio&) const {
      return std::make_unique<portfolio_impl>(seed);
    }
    std::unique_ptr<strategy_impl> operator()(const random&) const { return std::make_unique<random_impl>(seed); }
    std::unique_ptr<strategy_impl> operator()(const pct& p) const {
      return std::make_unique<pct_impl>(seed, p.depth);
    }
    std::unique_ptr<strategy_impl> operator()(const dfs& d) const {
      return std::make_unique<dfs_impl>(d.preemption_bound);
    }
    std::unique_ptr<strategy_impl> operator()(const replay&) const { return nullptr; }  // decoded by the driver
  };
  return std::visit(visitor{seed}, s);
}

std::unique_ptr<strategy_impl> make_replay(std::vector<decision> decisions) {
  return std::make_unique<replay_impl>(std::move(decisions));
}

std::unique_ptr<strategy_impl> make_guided(std::vector<decision> decisions) {
  return std::make_unique<guided_impl>(std::move(decisions));
}

}  // namespace weft::check::detail
