// weft — Go's concurrency runtime for C++. Include this for everything.
#pragma once

#include "weft/chan.hpp"
#include "weft/clock.hpp"
#include "weft/go.hpp"
#include "weft/panic.hpp"
#include "weft/run.hpp"
#include "weft/select.hpp"
#include "weft/time.hpp"
#include "weft/unit.hpp"
