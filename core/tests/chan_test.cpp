#include <weft/weft.hpp>

#include "support/fixture.hpp"

WEFT_RUNTIME_SUITE(Chan);

WEFT_RUNTIME_TEST(Chan, PingPong) {
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
  EXPECT_EQ(sum, 1000 * 999 / 2 + 1000);
}
