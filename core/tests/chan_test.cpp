#include <gtest/gtest.h>

#include <weft/weft.hpp>

TEST(Smoke, PingPong) {
  int r = weft::run({.procs = 2}, [] {
    auto a = weft::make_chan<int>();
    auto b = weft::make_chan<int>();
    weft::go([=] {
      for (auto v : a) b.send(v + 1);
      b.close();
    });
    int sum = 0;
    for (int i = 0; i < 1000; ++i) {
      a.send(i);
      sum += *b.recv();
    }
    a.close();
    EXPECT_FALSE(b.recv().has_value());
    return sum;
  });
  EXPECT_EQ(r, 1000 * 999 / 2 + 1000);
}
