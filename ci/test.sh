#!/usr/bin/env bash
# The test command: builds weft and runs every test, in the presets CI relies on.
#   ci/test.sh                 # default (all labels) + tsan (unit, stress)
#   WEFT_PRESETS="default tsan asan" ci/test.sh
# Each preset builds into build/<preset>. Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

presets=${WEFT_PRESETS:-"default tsan"}
jobs=${WEFT_JOBS:-$(nproc)}

for preset in $presets; do
  echo "=== ci/test.sh: preset $preset ==="
  start=$SECONDS
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
  echo "=== ci/test.sh: preset $preset passed in $((SECONDS - start)) s ==="
done
