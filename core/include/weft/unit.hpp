// weft::unit — the value of signal-only channels (Go's struct{}).
#pragma once

namespace weft {

struct unit {
  friend constexpr bool operator==(unit, unit) noexcept { return true; }
};

}  // namespace weft
