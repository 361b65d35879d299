#!/usr/bin/env bash
# Server CPU per bulk INSERT commit: one Freshet server, BULK_CLIENTS pgbench clients each
# inserting BULK_ROWS literal rows a transaction (the `bulk` phase of bench/concurrency.sh) for
# DURATION seconds (or TXNS transactions per client, so that runs end with tables of the same
# size: a hash map's cost per insertion grows with it); prints commits, rows/s and the server's CPU seconds (utime + stime from
# /proc/PID/stat) per commit, which a loaded machine moves far less than wall-clock rates.
# PERF=1 also records a call graph of the server during the phase (perf record -g) and prints
# the top of `perf report --no-children` (PERF_OUT keeps perf.data there).
#
#   bench/bulk_cpu.sh                 DURATION=10 TXNS= BULK_CLIENTS=2 BULK_ROWS=1000 RUNS=1 PERF=0 PERF_ARGS=-g
#   PERF_ARGS="--call-graph dwarf -F 499" for call graphs through code without frame pointers
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${DURATION:=10}" "${TXNS:=}" "${BULK_CLIENTS:=2}" "${BULK_ROWS:=1000}" "${RUNS:=1}" "${PERF:=0}" "${PERF_OUT:=}"
: "${PGBENCH:=$PG_BIN/pgbench}"
WORK=$(mktemp -d /tmp/freshet-bench-bulkcpu.XXXXXX)
cleanup() { stop_freshet; rm -rf "$WORK"; }
trap cleanup EXIT
E2E_TARGET=freshet start_freshet || exit 1
trap cleanup EXIT
source "$BENCH_DIR/pgbench_scripts.sh"
bulk_insert_script bulk_rows "$BULK_ROWS" "$WORK/bulk.sql"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FRESHET_PID/stat"; }
hz=$(getconf CLK_TCK)
for run in $(seq 1 "$RUNS"); do
  psql -X -q -h 127.0.0.1 -p "$FRESHET_PORT" -U freshet -d freshet -v ON_ERROR_STOP=1 \
    -c 'DROP TABLE IF EXISTS bulk_rows' \
    -c 'CREATE TABLE bulk_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' >/dev/null || exit 1
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(cpu_ticks)
  if [[ "$PERF" == 1 ]]; then
    # After the clients connected: -p attaches to the threads that exist (one per connection).
    (sleep 1; perf record ${PERF_ARGS:--g} -o "$WORK/perf.data" -p "$FRESHET_PID" -- sleep $((DURATION - 2)) >/dev/null 2>&1) &
    perf_pid=$!
  fi
  out=$("$PGBENCH" -n -h 127.0.0.1 -p "$FRESHET_PORT" -U freshet -c "$BULK_CLIENTS" -j 2 $([[ -n "$TXNS" ]] && echo "-t $TXNS" || echo "-T $DURATION") \
          -f "$WORK/bulk.sql" freshet 2>&1)
  t1=$(cpu_ticks)
  [[ "$PERF" == 1 ]] && wait "$perf_pid"
  commits=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$out")
  tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out")
  [[ -n "$commits" && "$commits" -gt 0 ]] || { echo "bench: pgbench failed:"; tail -5 <<<"$out"; exit 1; }
  awk -v c="$commits" -v tps="$tps" -v r="$BULK_ROWS" -v d=$((t1 - t0)) -v hz="$hz" -v la="$load" -v run="$run" 'BEGIN {
    printf "run %d: %d commits, %.0f rows/s, server CPU %.2f s, %.2f ms CPU per commit (load average %s)\n",
           run, c, tps * r, d / hz, d / hz / c * 1000, la }'
done
if [[ "$PERF" == 1 ]]; then
  perf report -i "$WORK/perf.data" --no-children --percent-limit 0.7 --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -60
  [[ -n "$PERF_OUT" ]] && cp "$WORK/perf.data" "$PERF_OUT"
fi
