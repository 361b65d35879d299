#!/usr/bin/env bash
# The dataflow engine alone (bench/dataflow_layout.cpp): a one-shot GROUP BY of 1M rows and a
# maintained join + GROUP BY fed 1,000-update steps, with 1 and 2 workers; min of RUNS runs.
# Built against this build's libraries (make release first). See bench/README.md, "Data layout".
#
#   bench/dataflow_layout.sh            RUNS=5 WORKERS_LIST="1 2" ROWS=1000000 STEPS=200
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build/release}"
: "${RUNS:=5}" "${WORKERS_LIST:=1 2}"
WORK=$(mktemp -d /tmp/freshet-bench-layout.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
c++ -O2 -std=c++20 -DFMT_SHARED -I "$ROOT/src" "$ROOT/bench/dataflow_layout.cpp" \
  "$BUILD/src/dataflow/libfreshet_dataflow.a" "$BUILD/src/common/libfreshet_common.a" \
  -lfmt -lcrypto -lre2 -lpthread -lgmp $(pkg-config --libs absl_flat_hash_map absl_hash) -o "$WORK/dataflow_layout"
echo "dataflow_layout: load average $(cut -d' ' -f1-3 /proc/loadavg)"
for w in $WORKERS_LIST; do "$WORK/dataflow_layout" "$w" "$RUNS"; done
echo "dataflow_layout: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
