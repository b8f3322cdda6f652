// The explorer example of README.md, verbatim, so that it cannot rot; and its
// broken twin (the lock left out), which the explorer must catch as a race.
#include <mutex>

#include <weft/check.hpp>
#include <weft/weft.hpp>

WEFT_TEST(Bank, TransfersKeepTheTotal) {       // the body is explored, many schedules
  weft::check::shared<int> a{100}, b{0};       // shared memory the race detector watches
  weft::mutex mu;
  weft::wait_group wg;
  for (int i = 0; i < 2; ++i)
    wg.go([&] { std::lock_guard l(mu); a.store(a.load() - 10); b.store(b.load() + 10); });
  wg.wait();
  WEFT_ASSERT(a.load() + b.load() == 100);
}

TEST(Bank, WithoutTheLockTheExplorerFindsTheRace) {
  weft::check::options opt;
  opt.iterations = 1000;
  auto r = weft::check::explore(opt, [] {
    weft::check::shared<int> a{100}, b{0};
    weft::wait_group wg;
    for (int i = 0; i < 2; ++i)
      wg.go([&] { a.store(a.load() - 10); b.store(b.load() + 10); });
    wg.wait();
    WEFT_ASSERT(a.load() + b.load() == 100);
  });
  ASSERT_EQ(r.kind, weft::check::kind::race) << r;
  EXPECT_NE(r.schedule, "");
}
