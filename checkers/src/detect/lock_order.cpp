#include "detect/lock_order.hpp"

#include <algorithm>
#include <deque>
#include <unordered_set>

#include "detect/resources.hpp"

namespace weft::check::detail {

using weft::detail::resource_kind;


void lock_order_detector::begin_run(std::uint64_t run, std::uint64_t iteration) {
  run_ = run;
  iteration_ = iteration;
  added_ = false;
  held_.clear();
  address_.clear();
}

void lock_order_detector::on_event(const event& e) {
  if (e.type != ev::acquire && e.type != ev::release) return;
  const auto kind = static_cast<resource_kind>(e.code);
  if (kind == resource_kind::semaphore) return;
  if (e.g >= held_.size()) held_.resize(e.g + 1);
  auto& mine = held_[e.g];
  if (e.type == ev::release) {
    auto drop = [&](std::vector<held>& v) {
      auto it = std::find_if(v.rbegin(), v.rend(), [&](const held& h) { return h.res == e.obj && h.kind == kind; });
      if (it == v.rend()) return false;
      v.erase(std::next(it).base());
      return true;
    };
    if (!drop(mine))
      for (auto& other : held_)
        if (drop(other)) break;
    return;
  }
  const stable_key key = ex_.key_of(e.obj);
  address_.emplace(key, e.obj);
  if (recording_ && !found_) {
    // Copy: add_edge may not touch held_, but keep it simple and safe.
    for (std::size_t i = 0; i < mine.size(); ++i) {
      const held h = mine[i];
      if (h.res == e.obj || h.key == key) continue;
      add_edge(h, e, key);
      if (found_) break;
    }
  }
  held_[e.g].push_back({e.obj, kind, e.site, key});
}

void lock_order_detector::add_edge(const held& from, const event& e, const stable_key& to_key) {
  const auto id = std::make_pair(from.key, to_key);
  if (edge_index_.count(id) != 0) return;
  edge x;
  x.from = from.key;
  x.to = to_key;
  x.g = e.g;
  x.from_kind = from.kind;
  x.to_kind = static_cast<resource_kind>(e.code);
  x.from_site = from.site;
  x.to_site = e.site;
  x.run = run_;
  x.iteration = iteration_;
  const std::size_t idx = edges_.size();
  edges_.push_back(x);
  edge_index_.emplace(id, idx);
  out_[x.from].push_back(idx);
  added_ = true;
  std::vector<std::size_t> back;
  if (!path(x.to, x.from, back)) return;
  // Readers do not exclude each other: a cycle of read locks only is no inversion.
  bool all_read = x.from_kind == resource_kind::rw_read && x.to_kind == resource_kind::rw_read;
  for (std::size_t b : back)
    all_read = all_read && edges_[b].from_kind == resource_kind::rw_read && edges_[b].to_kind == resource_kind::rw_read;
  if (all_read) return;
  record(idx, back, e);
}

bool lock_order_detector::path(const stable_key& from, const stable_key& to, std::vector<std::size_t>& edges) const {
  std::unordered_map<stable_key, std::size_t, stable_key_hash> via;  // node -> edge that reached it
  std::deque<stable_key> q;
  q.push_back(from);
  via.emplace(from, SIZE_MAX);
  while (!q.empty()) {
    const stable_key n = q.front();
    q.pop_front();
    if (n == to) {
      for (stable_key at = to; !(at == from);) {
        const std::size_t ei = via.at(at);
        edges.push_back(ei);
        at = edges_[ei].from;
      }
      std::reverse(edges.begin(), edges.end());
      return true;
    }
    auto it = out_.find(n);
    if (it == out_.end()) continue;
    for (std::size_t ei : it->second) {
      const stable_key m = edges_[ei].to;
      if (via.emplace(m, ei).second) q.push_back(m);
    }
  }
  return false;
}

void lock_order_detector::record(std::size_t closing, const std::vector<std::size_t>& path_edges, const event& e) {
  found_ = true;
  found_run_ = run_;
  found_step_ = e.step;
  found_trace_ = ex_.trace().size();
  snapshot_ = failure{};
  ex_.snapshot(snapshot_);
  std::vector<std::size_t> cyc;
  cyc.push_back(closing);
  cyc.insert(cyc.end(), path_edges.begin(), path_edges.end());
  // Read from the order first seen.
  auto oldest = std::min_element(cyc.begin(), cyc.end());
  std::rotate(cyc.begin(), oldest, cyc.end());
  evidence_ = finding{};
  std::vector<std::string> sites;
  for (std::size_t ei : cyc) {
    const edge& x = edges_[ei];
    raw_link l;
    l.g = x.g;
    l.hold_kind = x.from_kind;
    l.held_at = x.from_site;
    l.want_kind = x.to_kind;
    l.wanted_at = x.to_site;
    l.iteration = x.iteration;
    auto a = address_.find(x.from);
    if (a != address_.end())
      l.holds = a->second;
    else
      l.hold_label = "the lock taken at " + site_text(x.from_site) + " in schedule " + std::to_string(x.iteration);
    auto b = address_.find(x.to);
    if (b != address_.end())
      l.wants = b->second;
    else
      l.want_label = "the lock taken at " + site_text(x.to_site) + " in schedule " + std::to_string(x.iteration);
    evidence_.cycle.push_back(std::move(l));
    sites.push_back(site_text(x.from_site) + ">" + site_text(x.to_site));
    if (x.run == run_) involved_.push_back(x.g);
    if (x.run != run_ && std::find(witness_runs_.begin(), witness_runs_.end(), x.run) == witness_runs_.end())
      witness_runs_.push_back(x.run);
  }
  std::sort(witness_runs_.begin(), witness_runs_.end());
  std::sort(involved_.begin(), involved_.end());
  involved_.erase(std::unique(involved_.begin(), involved_.end()), involved_.end());
  std::sort(sites.begin(), sites.end());
  signature_ = "lock_order";
  for (const std::string& s : sites) signature_ += "|" + s;
}

}  // namespace weft::check::detail
