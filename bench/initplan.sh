#!/usr/bin/env bash
# Initplans folded into one-shot plans (sql/README.md "Initplans", dataflow/initplan_fold.hpp):
# server CPU (median of RUNS, after one warm-up; each run is REPS executions in one session,
# divided by REPS, as the CPU clock ticks in 10 ms) of queries whose WHERE compares with an
# uncorrelated scalar subquery, on Freshet binaries side by side and PostgreSQL 15.
#
#   bench/initplan.sh                                  ROWS=1000000 RUNS=5, this build and PostgreSQL
#   BASE_BIN=/path/to/main/freshet bench/initplan.sh   also another Freshet binary (main's, say)
#
# Tables: b (x int, y int) with y = 1..ROWS, u (y int) with 1..1000, t (pk int PRIMARY KEY, v int)
# with ROWS rows. Freshet's CPU is the server's utime + stime (/proc/PID/stat) around each run;
# PostgreSQL's the sum over its processes plus the postmaster's reaped children.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${ROWS:=1000000}" "${RUNS:=5}" "${REPS:=10}" "${BASE_BIN:=}"
TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/freshet-initplan.XXXXXX)
SERVER_PIDS=()
cleanup() { for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done; stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT

cpu_ticks() {
  local first=1 total=0 p f
  for p in "$@"; do
    f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    f=${f##*) }
    set -- $f
    total=$((total + ${12} + ${13}))
    if ((first)); then total=$((total + ${14} + ${15})); first=0; fi
  done
  echo "$total"
}

LOAD="CREATE TABLE b (x int, y int); CREATE TABLE u (y int); CREATE TABLE t (pk int PRIMARY KEY, v int);
INSERT INTO b SELECT i, i FROM generate_series(1, $ROWS) i;
INSERT INTO u SELECT i FROM generate_series(1, 1000) i;
INSERT INTO t SELECT i, i % 100 FROM generate_series(1, $ROWS) i;"

QUERIES=(
  "eq_minus|SELECT count(*) FROM b WHERE y = (SELECT max(y) FROM u) - 950"
  "eq_literal|SELECT count(*) FROM b WHERE y = 50"
  "pk_small|SELECT * FROM t WHERE pk = (SELECT max(y) FROM u) * 100"
  "pk_max|SELECT * FROM t WHERE pk = (SELECT max(pk) FROM t)"
  "pk_literal|SELECT * FROM t WHERE pk = 100000"
)

declare -A PORT PIDS
start_one() {  # NAME BIN
  local dir="$WORK/$1" port
  port=$(free_port)
  setsid "$2" serve --data-dir "$dir" --pg-listen "127.0.0.1:$port" --kafka-listen "127.0.0.1:$(free_port)" \
    --http-listen "127.0.0.1:$(free_port)" >"$WORK/$1.log" 2>&1 &
  local pid=$!
  SERVER_PIDS+=("$pid")
  wait_ready "$port" 120 "$pid" || { tail "$WORK/$1.log"; exit 1; }
  PORT[$1]=$port PIDS[$1]=$pid
}
TARGETS=(postgres branch)
start_postgres || exit 1
PORT[postgres]=$PG_REF_PORT
PIDS[postgres]="$(head -1 "$PG_REF_DIR/data/postmaster.pid" 2>/dev/null || head -1 "$PG_REF_DIR/postmaster.pid")"
start_one branch "$FRESHET_BIN"
if [[ -n "$BASE_BIN" ]]; then start_one base "$BASE_BIN"; TARGETS+=(base); fi
for t in "${TARGETS[@]}"; do
  psql -X -q -h 127.0.0.1 -p "${PORT[$t]}" -U freshet -d freshet -v ON_ERROR_STOP=1 -c "$LOAD" >/dev/null || exit 1
done
psql -X -q -h 127.0.0.1 -p "${PORT[postgres]}" -U freshet -d freshet -c 'VACUUM ANALYZE' >/dev/null

pids_of() {
  if [[ $1 == postgres ]]; then echo "${PIDS[postgres]}" $(pgrep -P "${PIDS[postgres]}"); else echo "${PIDS[$1]}"; fi
}
measure() {  # TARGET SQL -> median CPU ms
  local t=$1 sql=$2 i c0 c1 cpus=()
  psql -X -q -A -t -h 127.0.0.1 -p "${PORT[$t]}" -U freshet -d freshet -c "$sql" >/dev/null 2>&1 || { echo error; return; }
  for i in $(seq 1 "$RUNS"); do
    local args=()
    for _ in $(seq 1 "$REPS"); do args+=(-c "$sql"); done
    c0=$(cpu_ticks $(pids_of "$t"))
    psql -X -q -h 127.0.0.1 -p "${PORT[$t]}" -U freshet -d freshet -o /dev/null "${args[@]}" 2>/dev/null
    c1=$(cpu_ticks $(pids_of "$t"))
    cpus+=("$(awk -v d="$(( c1 - c0 ))" -v tck="$TCK" -v n="$REPS" 'BEGIN { printf "%.1f", d * 1000 / tck / n }')")
  done
  printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'
}
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s' query; for t in "${TARGETS[@]}"; do printf ' %10s' "$t"; done; echo "   (server CPU ms per query, median of $RUNS runs of $REPS)"
for q in "${QUERIES[@]}"; do
  name=${q%%|*} sql=${q#*|}
  printf '%-12s' "$name"
  for t in "${TARGETS[@]}"; do printf ' %10s' "$(measure "$t" "$sql")"; done
  echo
done
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
