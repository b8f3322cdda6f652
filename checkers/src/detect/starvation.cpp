#include "detect/starvation.hpp"

#include <algorithm>
#include <string>

#include "explore/explorer.hpp"

namespace weft::check::detail {

using weft::detail::resource_kind;
using weft::detail::wait_reason;


void starvation_detector::begin_run() {
  waiters_.clear();
  waiting_on_.clear();
  acquired_.clear();
}

void starvation_detector::on_event(const event& e) {
  if (resource_state::is_step(e)) w(e.g).tried = true;
  switch (e.type) {
    case ev::park: {
      const auto why = static_cast<wait_reason>(e.code);
      if (!resource_state::resource_wait(why)) return;
      waiter& me = w(e.g);
      if (me.res == e.obj) return;  // tried again and lost: `tried` is set
      if (me.res != nullptr) {
        auto& v = waiting_on_[me.res];
        v.erase(std::remove(v.begin(), v.end(), e.g), v.end());
      }
      me = waiter{};
      me.res = e.obj;
      me.kind = wanted_kind(why);
      me.requested_at = e.site;
      me.tried = true;
      waiting_on_[e.obj].push_back(e.g);
      return;
    }
    case ev::exit: {
      waiter& me = w(e.g);
      if (me.res != nullptr) {
        auto& v = waiting_on_[me.res];
        v.erase(std::remove(v.begin(), v.end(), e.g), v.end());
        me = waiter{};
      }
      return;
    }
    case ev::acquire: {
      ++acquired_[e.obj][e.g];
      waiter& me = w(e.g);
      if (me.res == e.obj) {
        auto& v = waiting_on_[e.obj];
        v.erase(std::remove(v.begin(), v.end(), e.g), v.end());
        me = waiter{};
      }
      auto it = waiting_on_.find(e.obj);
      if (it == waiting_on_.end()) return;
      for (std::uint32_t id : it->second) {
        if (id == e.g) continue;
        waiter& x = w(id);
        if (!x.tried) continue;
        x.tried = false;
        ++x.passed;
        auto a = std::find_if(x.by.begin(), x.by.end(), [&](const raw_starved::acquirer& q) { return q.g == e.g; });
        if (a == x.by.end()) {
          x.by.push_back({e.g, 0, {}});
          a = std::prev(x.by.end());
        }
        ++a->times;
        a->site = e.site;
        if (x.passed > threshold_ && !ex_.failed()) {
          finding f;
          raw_starved s;
          s.g = id;
          s.res = e.obj;
          s.kind = x.kind;
          s.requested_at = x.requested_at;
          s.passed_over = x.passed;
          s.acquired_before = acquired_[e.obj][id];
          s.others = x.by;
          std::stable_sort(s.others.begin(), s.others.end(),
                           [](const raw_starved::acquirer& p, const raw_starved::acquirer& q) { return p.times > q.times; });
          f.starved.push_back(std::move(s));
          std::vector<std::uint32_t> involved{id};
          for (const auto& o : f.starved.back().others) involved.push_back(o.g);
          ex_.fail(check::kind::starvation, "starvation", "starvation:" + site_text(x.requested_at), std::move(involved),
                   std::move(f));
          return;
        }
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace weft::check::detail
