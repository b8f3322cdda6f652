// select: readiness, uniform choice, default, nil cases, no leaked waiters.
#include <weft/weft.hpp>

#include <array>
#include <string>

#include "support/fixture.hpp"

using namespace std::chrono_literals;

WEFT_RUNTIME_SUITE(Select);

WEFT_RUNTIME_TEST(Select, DefaultWhenNothingReady) {
  auto ch = weft::make_chan<int>();
  bool ran_default = false;
  std::size_t i = weft::select(weft::on_recv(ch, [](std::optional<int>) { ADD_FAILURE(); }),
                               weft::on_default([&] { ran_default = true; }));
  EXPECT_EQ(i, 1u);
  EXPECT_TRUE(ran_default);
  // The default's position in the argument list is what is returned.
  EXPECT_EQ(weft::select(weft::on_default(), weft::on_recv(ch)), 0u);
  // Only a default: returns at once.
  EXPECT_EQ(weft::select(weft::on_default()), 0u);
}

WEFT_RUNTIME_TEST(Select, ReadyReceiveAndSendCases) {
  auto in = weft::make_chan<int>(1);
  auto out = weft::make_chan<int>(1);
  in.send(4);
  int got = 0;
  std::size_t i = weft::select(weft::on_recv(in, [&](std::optional<int> v) { got = *v; }),
                               weft::on_send(weft::chan<int>{}, 1));
  EXPECT_EQ(i, 0u);
  EXPECT_EQ(got, 4);
  bool sent = false;
  i = weft::select(weft::on_recv(in), weft::on_send(out, 9, [&] { sent = true; }));
  EXPECT_EQ(i, 1u);
  EXPECT_TRUE(sent);
  EXPECT_EQ(out.recv(), 9);
}

WEFT_RUNTIME_TEST(Select, BlocksUntilACaseIsReady) {
  auto a = weft::make_chan<int>();
  auto b = weft::make_chan<std::string>();
  weft::go([=] {
    weft::sleep(2ms);
    b.send("hello");
  });
  std::string got;
  std::size_t i = weft::select(weft::on_recv(a), weft::on_recv(b, [&](std::optional<std::string> v) { got = *v; }));
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(got, "hello");
}

WEFT_RUNTIME_TEST(Select, SendCaseHandsToWaitingReceiver) {
  auto ch = weft::make_chan<int>();
  auto got = weft::make_chan<int>(1);
  weft::go([=] { got.send(*ch.recv()); });
  std::size_t i = weft::select(weft::on_send(ch, 11), weft::on_recv(weft::after(10s)));
  EXPECT_EQ(i, 0u);
  EXPECT_EQ(got.recv(), 11);
}

WEFT_RUNTIME_TEST(Select, ClosedChannelIsReadyWithNullopt) {
  auto ch = weft::make_chan<int>();
  ch.close();
  std::optional<int> seen = 1;
  EXPECT_EQ(weft::select(weft::on_recv(ch, [&](std::optional<int> v) { seen = v; })), 0u);
  EXPECT_FALSE(seen.has_value());
}

WEFT_RUNTIME_TEST(Select, SendCaseOnClosedChannelPanics) {
  auto ch = weft::make_chan<int>(1);
  ch.close();
  try {
    weft::select(weft::on_send(ch, 1), weft::on_default());
    ADD_FAILURE() << "select send on a closed channel did not panic";
  } catch (const weft::panic_error& e) {
    EXPECT_STREQ(e.what(), "send on closed channel");
  }
}

WEFT_RUNTIME_TEST(Select, SenderBlockedInSelectPanicsWhenClosed) {
  auto ch = weft::make_chan<int>();
  auto result = weft::make_chan<std::string>(1);
  weft::go([=] {
    try {
      weft::select(weft::on_send(ch, 1), weft::on_recv(weft::chan<int>{}));
      result.send("sent");
    } catch (const weft::panic_error& e) {
      result.send(e.what());
    }
  });
  weft::sleep(2ms);
  ch.close();
  EXPECT_EQ(result.recv(), "send on closed channel");
}

WEFT_RUNTIME_TEST(Select, UniformChoiceAmongReadyCases) {
  auto a = weft::make_chan<int>(1);
  auto b = weft::make_chan<int>(1);
  auto c = weft::make_chan<int>(1);
  std::array<int, 3> hits{};
  constexpr int rounds = 3000;
  for (int r = 0; r < rounds; ++r) {
    a.try_send(0);
    b.try_send(0);
    c.try_send(0);
    ++hits[weft::select(weft::on_recv(a), weft::on_recv(b), weft::on_recv(c))];
  }
  // Expect ~1000 each; a fair coin leaves 800..1200 with overwhelming
  // probability (> 8 standard deviations).
  for (int h : hits) {
    EXPECT_GT(h, 700);
    EXPECT_LT(h, 1300);
  }
}

WEFT_RUNTIME_TEST(Select, NilCasesAreNeverChosen) {
  weft::chan<int> nil;
  auto ready = weft::make_chan<int>(1);
  for (int r = 0; r < 200; ++r) {
    ready.send(r);
    EXPECT_EQ(weft::select(weft::on_recv(nil), weft::on_send(nil, 1), weft::on_recv(ready)), 2u);
  }
}

WEFT_RUNTIME_TEST(Select, NoDoubleDeliveryAndNoLeftoverWaiters) {
  // Many selecting receivers compete over two channels; every value is received
  // exactly once, and after all selects return no waiter is left behind (a left
  // waiter would steal a later value or crash on a dead stack).
  constexpr int receivers = 8, values = 400;
  auto a = weft::make_chan<int>();
  auto b = weft::make_chan<int>();
  auto got = weft::make_chan<int>(values);
  auto quit = weft::make_chan<weft::unit>();
  for (int r = 0; r < receivers; ++r)
    weft::go([=] {
      for (;;) {
        bool stop = false;
        weft::select(weft::on_recv(a, [&](std::optional<int> v) { got.send(*v); }),
                     weft::on_recv(b, [&](std::optional<int> v) { got.send(*v); }),
                     weft::on_recv(quit, [&](std::optional<weft::unit>) { stop = true; }));
        if (stop) return;
      }
    });
  for (int i = 0; i < values; ++i) (i % 2 ? a : b).send(i);
  long sum = 0;
  for (int i = 0; i < values; ++i) sum += *got.recv();
  EXPECT_EQ(sum, long(values) * (values - 1) / 2);
  quit.close();
  // Now plain receives must see plain senders, with no stale select waiter in between.
  weft::go([=] { a.send(-1); });
  EXPECT_EQ(a.recv(), -1);
}

WEFT_RUNTIME_TEST(Select, SameChannelInSeveralCases) {
  auto ch = weft::make_chan<int>(1);
  ch.send(1);
  std::size_t i = weft::select(weft::on_recv(ch), weft::on_recv(ch));
  EXPECT_LT(i, 2u);
  // Send and receive on the same unbuffered channel: nobody else, so default.
  auto u = weft::make_chan<int>();
  EXPECT_EQ(weft::select(weft::on_recv(u), weft::on_send(u, 1), weft::on_default()), 2u);
}

WEFT_RUNTIME_TEST(Select, HandlerMayBlockAndSelectAgain) {
  auto a = weft::make_chan<int>(1);
  auto b = weft::make_chan<int>();
  a.send(1);
  weft::go([=] { b.send(2); });
  int total = 0;
  weft::select(weft::on_recv(a, [&](std::optional<int> v) {
    total += *v;
    weft::select(weft::on_recv(b, [&](std::optional<int> w) { total += *w; }));
  }));
  EXPECT_EQ(total, 3);
}

WEFT_RUNTIME_TEST(Select, TimeoutWithAfter) {
  auto never = weft::make_chan<int>();
  auto start = weft::now();
  std::size_t i = weft::select(weft::on_recv(never), weft::on_recv(weft::after(5ms), [](auto t) {
    EXPECT_TRUE(t.has_value());
  }));
  EXPECT_EQ(i, 1u);
  EXPECT_GE(weft::now() - start, 5ms);
}

WEFT_RUNTIME_TEST(Select, ForSelectLoopWithDone) {
  // The seeds' for-select loop: a generator that stops when done is closed.
  auto done = weft::make_chan<weft::unit>();
  auto out = weft::make_chan<int>();
  auto finished = weft::make_chan<weft::unit>();
  weft::go([=] {
    for (int i = 0;; ++i) {
      bool stop = false;
      weft::select(weft::on_recv(done, [&](auto) { stop = true; }), weft::on_send(out, i));
      if (stop) break;
    }
    finished.close();
  });
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out.recv(), i);
  done.close();
  finished.recv();
}
