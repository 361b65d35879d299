#!/usr/bin/env bash
# Delta joins against chains of binary joins, the dataflow engine alone (bench/delta_join.cpp):
# Nexmark-shaped 3- and 4-way joins hydrated from EVENTS events, then STEPS steps of 1,000
# events; state bytes and events/s, min of RUNS runs. Built against this build's libraries
# (make release first). See bench/README.md, "Delta joins".
#
#   bench/delta_join.sh            RUNS=3 WORKERS_LIST="1 2" EVENTS=500000 STEPS=200
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build/release}"
: "${RUNS:=3}" "${WORKERS_LIST:=1 2}"
WORK=$(mktemp -d /tmp/freshet-bench-delta.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
c++ -O2 -std=c++20 -DFMT_SHARED -I "$ROOT/src" "$ROOT/bench/delta_join.cpp" \
  "$BUILD/src/dataflow/libfreshet_dataflow.a" "$BUILD/src/common/libfreshet_common.a" \
  -lfmt -lcrypto -lre2 -lpthread -o "$WORK/delta_join"
echo "delta_join: load average $(cut -d' ' -f1-3 /proc/loadavg)"
for w in $WORKERS_LIST; do "$WORK/delta_join" "$w" "$RUNS"; done
echo "delta_join: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
