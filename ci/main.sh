#!/usr/bin/env bash
# The main job, from a fresh machine: install what is missing, build, and run
# the explorer over the seed programs (examples/seeds): every bug found with
# its expected verdict, every corrected twin clean over its whole budget.
#   ci/main.sh                  # reports go to out/catalogue
#   WEFT_OUT=/tmp/r ci/main.sh  # elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install.sh
cmake --preset default
cmake --build --preset default -j "${WEFT_JOBS:-$(nproc)}" \
  --target weft_catalogue weft_example_pipeline
echo "=== the pipeline example: generator -> 4 squaring workers -> merge ==="
build/default/examples/weft_example_pipeline 100000 4
echo
echo "=== the explorer on the seed programs ==="
exec build/default/examples/seeds/weft_catalogue --out "${WEFT_OUT:-out/catalogue}"
