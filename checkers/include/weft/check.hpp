// weft::check — the harness: explore interleavings deterministically, in
// virtual time, and report failures with a schedule that replays them.
//
//   #include <weft/check.hpp>
//   WEFT_TEST(Bank, WithdrawNeverOverdraws) { ... WEFT_ASSERT(balance.load() >= 0); }
//
// explore.hpp (explore, options, choose, progress, WEFT_ASSERT), strategy.hpp
// (random, pct, dfs, replay, portfolio), report.hpp (report, kind),
// shared.hpp (shared<T>, WEFT_READ/WEFT_WRITE), and, when GoogleTest is
// available, gtest.hpp (WEFT_TEST).
#pragma once

#include "weft/check/explore.hpp"
#include "weft/check/report.hpp"
#include "weft/check/shared.hpp"
#include "weft/check/strategy.hpp"

#if __has_include(<gtest/gtest.h>)
#include "weft/check/gtest.hpp"
#endif
