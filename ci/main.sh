#!/usr/bin/env bash
# The main job, from a fresh machine: install what is missing, build, and run
# weft on the seed programs.
#   ci/main.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install.sh
cmake --preset default
cmake --build --preset default -j "${WEFT_JOBS:-$(nproc)}"
echo "=== the pipeline example: generator -> 4 squaring workers -> merge ==="
build/default/examples/weft_example_pipeline 100000 4
