// Channels: every Go semantic, under every scheduler (support/fixture.hpp).
#include <weft/weft.hpp>

#include <atomic>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

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

WEFT_RUNTIME_TEST(Chan, UnbufferedSendWaitsForReceiver) {
  auto ch = weft::make_chan<int>();
  auto sent = weft::make_chan<weft::unit>(1);
  weft::go([=] {
    ch.send(7);  // cannot complete until main receives
    sent.send({});
  });
  weft::sleep(5ms);
  EXPECT_FALSE(sent.try_recv().has_value()) << "an unbuffered send completed with no receiver";
  EXPECT_EQ(ch.recv(), 7);
  EXPECT_TRUE(sent.recv().has_value());
}

WEFT_RUNTIME_TEST(Chan, BufferedIsFifoAndFillsWithoutBlocking) {
  auto ch = weft::make_chan<int>(4);
  EXPECT_EQ(ch.cap(), 4u);
  for (int i = 0; i < 4; ++i) ch.send(i);  // would deadlock if it blocked
  EXPECT_EQ(ch.len(), 4u);
  EXPECT_FALSE(ch.try_send(99)) << "try_send succeeded on a full channel";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ch.recv(), i);
  EXPECT_EQ(ch.len(), 0u);
  EXPECT_FALSE(ch.try_recv().has_value());
}

WEFT_RUNTIME_TEST(Chan, BufferedFullSenderBlocksUntilRoom) {
  auto ch = weft::make_chan<int>(1);
  ch.send(1);
  auto done = weft::make_chan<weft::unit>(1);
  weft::go([=] {
    ch.send(2);
    done.send({});
  });
  weft::sleep(5ms);
  EXPECT_FALSE(done.try_recv().has_value());
  EXPECT_EQ(ch.recv(), 1);
  EXPECT_TRUE(done.recv().has_value());
  EXPECT_EQ(ch.recv(), 2);  // the waiting sender's value took the freed slot, in order
}

WEFT_RUNTIME_TEST(Chan, CloseDrainsThenReportsClosed) {
  auto ch = weft::make_chan<std::string>(3);
  ch.send("a");
  ch.send("b");
  ch.close();
  EXPECT_EQ(ch.recv(), "a");
  auto [v, ok] = ch.recv2();
  EXPECT_TRUE(ok);
  EXPECT_EQ(v, "b");
  EXPECT_EQ(ch.recv(), std::nullopt);
  auto [z, ok2] = ch.recv2();
  EXPECT_FALSE(ok2);
  EXPECT_EQ(z, std::string{});
  EXPECT_EQ(ch.try_recv(), std::nullopt);
}

WEFT_RUNTIME_TEST(Chan, CloseWakesEveryReceiver) {
  auto ch = weft::make_chan<int>();
  auto results = weft::make_chan<bool>(10);
  for (int i = 0; i < 10; ++i) weft::go([=] { results.send(ch.recv().has_value()); });
  weft::sleep(2ms);
  ch.close();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(results.recv(), false);
}

WEFT_RUNTIME_TEST(Chan, CloseMakesBlockedSendersPanic) {
  auto ch = weft::make_chan<int>();
  auto results = weft::make_chan<std::string>(3);
  for (int i = 0; i < 3; ++i)
    weft::go([=] {
      try {
        ch.send(i);
        results.send("sent");
      } catch (const weft::panic_error& e) {
        results.send(e.what());
      }
    });
  weft::sleep(2ms);
  ch.close();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(results.recv(), "send on closed channel");
}

WEFT_RUNTIME_TEST(Chan, PanicsCarryGoMessages) {
  auto ch = weft::make_chan<int>(1);
  ch.close();
  try {
    ch.send(1);
    ADD_FAILURE() << "send on closed channel did not panic";
  } catch (const weft::panic_error& e) {
    EXPECT_STREQ(e.what(), "send on closed channel");
  }
  try {
    ch.try_send(1);
    ADD_FAILURE() << "try_send on closed channel did not panic";
  } catch (const weft::panic_error& e) {
    EXPECT_STREQ(e.what(), "send on closed channel");
  }
  try {
    ch.close();
    ADD_FAILURE() << "close of closed channel did not panic";
  } catch (const weft::panic_error& e) {
    EXPECT_STREQ(e.what(), "close of closed channel");
  }
  weft::chan<int> nil;
  try {
    nil.close();
    ADD_FAILURE() << "close of nil channel did not panic";
  } catch (const weft::panic_error& e) {
    EXPECT_STREQ(e.what(), "close of nil channel");
  }
  EXPECT_THROW(weft::make_chan<int>(std::size_t(1) << 62), weft::panic_error);
}

WEFT_RUNTIME_TEST(Chan, NilChannelBlocksForever) {
  weft::chan<int> nil;
  EXPECT_TRUE(nil.is_nil());
  EXPECT_EQ(nil.len(), 0u);
  EXPECT_EQ(nil.cap(), 0u);
  EXPECT_FALSE(nil.try_send(1));
  EXPECT_FALSE(nil.try_recv().has_value());
  // A receive on nil never completes: only the timeout can fire.
  std::size_t i = weft::select(weft::on_recv(nil), weft::on_send(nil, 1), weft::on_recv(weft::after(3ms)));
  EXPECT_EQ(i, 2u);
}

WEFT_RUNTIME_TEST(Chan, NilCaseNeverFiresButOthersDo) {
  auto started = weft::make_chan<weft::unit>();
  weft::chan<int> nil;
  auto ch = weft::make_chan<int>();
  weft::go([=] {
    started.send({});
    weft::select(weft::on_recv(nil), weft::on_recv(ch));
  });
  started.recv();
  weft::sleep(2ms);
  EXPECT_EQ(weft::num_goroutine(), 2u);
  ch.close();  // let it go, so the test leaves nothing behind
}

WEFT_RUNTIME_TEST(Chan, TrySendHandsToWaitingReceiver) {
  auto ch = weft::make_chan<int>();
  auto got = weft::make_chan<int>(1);
  weft::go([=] { got.send(*ch.recv()); });
  bool sent = false;
  for (int i = 0; i < 1000 && !sent; ++i) {
    sent = ch.try_send(5);
    if (!sent) weft::sleep(100us);
  }
  EXPECT_TRUE(sent);
  EXPECT_EQ(got.recv(), 5);
}

WEFT_RUNTIME_TEST(Chan, MoveOnlyValues) {
  auto ch = weft::make_chan<std::unique_ptr<int>>(2);
  ch.send(std::make_unique<int>(1));
  weft::go([=] { ch.send(std::make_unique<int>(2)); });
  auto a = ch.recv();
  auto b = ch.recv();
  ASSERT_TRUE(a && b && *a && *b);
  EXPECT_EQ(**a + **b, 3);
  // Unreceived values are destroyed with the channel (ASan would see a leak).
  ch.send(std::make_unique<int>(3));
}

WEFT_RUNTIME_TEST(Chan, DirectionalViews) {
  auto ch = weft::make_chan<int>(1);
  weft::send_chan<int> out = ch;
  weft::recv_chan<int> in = ch;
  static_assert(!std::is_convertible_v<weft::recv_chan<int>, weft::chan<int>>);
  static_assert(!std::is_convertible_v<weft::send_chan<int>, weft::recv_chan<int>>);
  out.send(3);
  EXPECT_EQ(in.len(), 1u);
  EXPECT_EQ(out.cap(), 1u);
  EXPECT_EQ(in.recv(), 3);
  out.close();
  int n = 0;
  for (int v : in) n += v;
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(in == ch);
}

WEFT_RUNTIME_TEST(Chan, RangeStopsAtClose) {
  auto ch = weft::make_chan<int>(8);
  weft::go([=] {
    for (int i = 1; i <= 100; ++i) ch.send(i);
    ch.close();
  });
  int sum = 0;
  for (int v : ch) sum += v;
  EXPECT_EQ(sum, 5050);
}

WEFT_RUNTIME_TEST(Chan, ManyProducersManyConsumersLoseNothing) {
  constexpr int producers = 4, consumers = 4, per = 500;
  for (std::size_t cap : {std::size_t(0), std::size_t(1), std::size_t(16)}) {
    auto ch = weft::make_chan<int>(cap);
    auto sums = weft::make_chan<long>(consumers);
    auto done = weft::make_chan<weft::unit>(producers);
    for (int p = 0; p < producers; ++p)
      weft::go([=] {
        for (int i = 1; i <= per; ++i) ch.send(i);
        done.send({});
      });
    for (int c = 0; c < consumers; ++c)
      weft::go([=] {
        long s = 0;
        for (int v : ch) s += v;
        sums.send(s);
      });
    for (int p = 0; p < producers; ++p) done.recv();
    ch.close();
    long total = 0;
    for (int c = 0; c < consumers; ++c) total += *sums.recv();
    EXPECT_EQ(total, long(producers) * per * (per + 1) / 2) << "cap " << cap;
  }
}

WEFT_RUNTIME_TEST(Chan, UnitChannelsSignal) {
  auto done = weft::make_chan<weft::unit>();
  weft::go([=] { done.close(); });
  EXPECT_FALSE(done.recv().has_value());
  EXPECT_FALSE(done.recv2().ok);
}

WEFT_RUNTIME_TEST(Chan, LargeAndOverAlignedElements) {
  struct alignas(64) big {
    char bytes[200];
    int tag;
  };
  auto ch = weft::make_chan<big>(3);
  for (int i = 0; i < 3; ++i) {
    big b{};
    b.tag = i;
    ch.send(b);
  }
  for (int i = 0; i < 3; ++i) {
    auto v = ch.recv();
    ASSERT_TRUE(v);
    EXPECT_EQ(v->tag, i);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&*v) % 64, 0u);
  }
}

WEFT_RUNTIME_TEST(Chan, HandleCopiesShareOneChannel) {
  auto a = weft::make_chan<int>(1);
  auto b = a;
  weft::chan<int> c;
  c = b;
  a.send(1);
  EXPECT_EQ(c.len(), 1u);
  EXPECT_EQ(b.recv(), 1);
  EXPECT_TRUE(a == c);
  EXPECT_FALSE(a == weft::make_chan<int>(1));
}
