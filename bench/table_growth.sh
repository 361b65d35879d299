#!/usr/bin/env bash
# A table's growth under 1,000-row INSERT commits: one Freshet server, one pgbench client
# inserting TXNS transactions of BULK_ROWS literal rows into a table with a bigint primary key
# (as bench/concurrency.sh's bulk phase), then: the slowest commits and where they came
# (commits over SLOW_MS, with the row count the table had), commit p50/p99/max, server CPU ms per
# commit (/proc/PID/stat) and the server's RSS per table row (VmRSS after minus before the load,
# over the rows loaded). A table whose maps rehash every entry at once shows one slow commit at
# each doubling of the row count (bench/README.md, "Concurrency").
#
#   TXNS=1500 bench/table_growth.sh            # 1.5M rows
#   FRESHET_BIN=/path/to/other/freshet bench/table_growth.sh
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${TXNS:=1500}" "${BULK_ROWS:=1000}" "${SLOW_MS:=60}"
: "${PGBENCH:=$PG_BIN/pgbench}"
WORK=$(mktemp -d /tmp/freshet-bench-growth.XXXXXX)
cleanup() { stop_freshet; rm -rf "$WORK"; }
trap cleanup EXIT
E2E_TARGET=freshet start_freshet || exit 1
trap cleanup EXIT
source "$BENCH_DIR/pgbench_scripts.sh"
bulk_insert_script growth_rows "$BULK_ROWS" "$WORK/bulk.sql"
psql -X -q -h 127.0.0.1 -p "$FRESHET_PORT" -U freshet -d freshet -v ON_ERROR_STOP=1 \
  -c 'CREATE TABLE growth_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' >/dev/null || exit 1
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$FRESHET_PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FRESHET_PID/stat"; }
hz=$(getconf CLK_TCK)
load0=$(cut -d' ' -f1 /proc/loadavg)
rss0=$(rss_kb)
t0=$(cpu_ticks)
(cd "$WORK" && "$PGBENCH" -n -h 127.0.0.1 -p "$FRESHET_PORT" -U freshet -c 1 -j 1 -t "$TXNS" -l \
  -f "$WORK/bulk.sql" freshet >"$WORK/pgbench.out" 2>&1) || { tail -5 "$WORK/pgbench.out"; exit 1; }
t1=$(cpu_ticks)
rss1=$(rss_kb)
load1=$(cut -d' ' -f1 /proc/loadavg)
rows=$(psql -X -At -h 127.0.0.1 -p "$FRESHET_PORT" -U freshet -d freshet -c 'SELECT count(*) FROM growth_rows')
# pgbench's log: client_id transaction_no time_us script_no time_epoch time_us_part
cat "$WORK"/pgbench_log.* | awk '{ print $3 / 1000 }' >"$WORK/lat"
echo "commits over ${SLOW_MS} ms (ms at table rows):"
awk -v n="$BULK_ROWS" -v s="$SLOW_MS" '$1 > s { printf "  %.0f ms at %d rows\n", $1, (NR - 1) * n }' "$WORK/lat"
sort -n "$WORK/lat" | awk '{ v[NR] = $1 } END {
  printf "commit latency ms: p50 %.2f, p99 %.2f, max %.2f (%d commits)\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1], v[NR], NR }'
awk -v c="$TXNS" -v d=$((t1 - t0)) -v hz="$hz" -v r0="$rss0" -v r1="$rss1" -v rows="$rows" -v l0="$load0" -v l1="$load1" 'BEGIN {
  printf "server CPU %.2f s, %.2f ms per commit; RSS %.0f -> %.0f MB, %.0f bytes per table row (%d rows); load average %s -> %s\n",
         d / hz, d / hz / c * 1000, r0 / 1024, r1 / 1024, (r1 - r0) * 1024 / rows, rows, l0, l1 }'
