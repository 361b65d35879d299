#!/usr/bin/env bash
# The long differential run (make test-slow): several seeds, thousands of batches in all, every
# shape kept going after a difference so that one run reports every differing shape.
#
#   DIFF_SLOW_SEEDS="1 2 3" DIFF_SLOW_BATCHES=1000 bash test/e2e/differential/slow.sh
# Prints `PASS differential_slow` or `FAIL differential_slow: ...` and exits 0/1.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
: "${DIFF_SLOW_SEEDS:=1 2 3}" "${DIFF_SLOW_BATCHES:=1000}"
failed=()
for seed in $DIFF_SLOW_SEEDS; do
  # A worker count from 1 to 4 per seed (printed by the run), so shard counts vary too.
  DIFF_WORKERS=${DIFF_SLOW_WORKERS:-$((RANDOM % 4 + 1))} \
  DIFF_NAME="differential_seed_$seed" DIFF_SEED=$seed DIFF_BATCHES=$DIFF_SLOW_BATCHES DIFF_OPS=8 \
    DIFF_KEEP_GOING=1 DIFF_TIMEOUT_S=${DIFF_SLOW_TIMEOUT_S:-3000} bash "$HERE/differential_test.sh" \
    || failed+=("$seed")
done
if ((${#failed[@]} == 0)); then echo "PASS differential_slow"; exit 0; fi
echo "FAIL differential_slow: seeds ${failed[*]}"
exit 1
