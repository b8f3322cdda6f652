// The stress suites' shared parameters: one test suite, Stress, run at 1, 2,
// 4 and 8 workers (instantiated once, in runtime_stress.cpp), and how far to
// scale the goroutine counts down under ThreadSanitizer.
#pragma once

#include <gtest/gtest.h>

#include "weft/detail/config.hpp"

namespace weft_stress {
// ThreadSanitizer: ~850 KB per live goroutine and a cap of ~8000 fibers.
inline constexpr int scale = WEFT_TSAN ? 1 : 4;
}  // namespace weft_stress

class Stress : public ::testing::TestWithParam<unsigned> {};
