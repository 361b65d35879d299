#!/usr/bin/env bash
# The single-row write path alone (bench/concurrency.sh's `single` phase): SINGLE_CLIENTS pgbench
# clients, each transaction one autocommit one-row INSERT, for DURATION s, against one Freshet
# server and (PG=1, the default) a throwaway PostgreSQL 15 with fsync on. Prints per run:
# commits/s; Freshet's server CPU ms per commit (/proc/PID/stat, which a loaded machine moves
# far less than wall-clock rates) and its fdatasync/fsync calls (perf's syscall tracepoints on
# the server's threads), i.e. how many commits share one sync; PostgreSQL's WAL syncs
# (pg_stat_wal.wal_sync) likewise. PERF=1 adds a call graph of Freshet's server.
#
#   RUNS=3 DURATION=8 bench/single_cpu.sh
#   PERF=1 PERF_ARGS="--call-graph dwarf -F 499" PG=0 bench/single_cpu.sh
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${DURATION:=8}" "${SINGLE_CLIENTS:=64}" "${RUNS:=1}" "${PERF:=0}" "${PG:=1}"
: "${PGBENCH:=$PG_BIN/pgbench}"
WORK=$(mktemp -d /tmp/freshet-bench-single.XXXXXX)
chmod 755 "$WORK"
start_postgres_durable() {
  PG_REF_DIR=$(mktemp -d /tmp/freshet-pg.XXXXXX)
  chmod 755 "$PG_REF_DIR"
  [[ $(id -u) -eq 0 ]] && { id "$PG_OS_USER" >/dev/null 2>&1 || useradd -m "$PG_OS_USER"; chown "$PG_OS_USER" "$PG_REF_DIR"; }
  _as_pg_user "'$PG_BIN/initdb' -D '$PG_REF_DIR/data' -A trust -U freshet >'$PG_REF_DIR/initdb.log' 2>&1" || return 1
  PG_REF_PORT=$(free_port)
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$PG_REF_DIR/data' -l '$PG_REF_DIR/log' -w -t 60 \
       -o \"-p $PG_REF_PORT -k '$PG_REF_DIR' -c listen_addresses=127.0.0.1 -c fsync=on \
           -c synchronous_commit=on -c max_connections=300 -c shared_buffers=256MB\" start >/dev/null" || return 1
  psql -X -q -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d postgres -c 'CREATE DATABASE freshet' >/dev/null
  export PG_REF_PORT PG_REF_DIR
}
cleanup() { stop_freshet; [[ "$PG" == 1 ]] && stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT
if [[ "$PG" == 1 ]]; then start_postgres_durable || { echo "bench: PostgreSQL did not start"; exit 1; }; fi
E2E_TARGET=freshet start_freshet || exit 1
trap cleanup EXIT
cat >"$WORK/single.sql" <<'EOF'
\set id random(1, 9000000000000000000)
INSERT INTO single_rows VALUES (:id, :client_id, 'payload-abcdefghijklmnop');
EOF
psql_to() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U freshet -d freshet -v ON_ERROR_STOP=1 "${@:2}"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FRESHET_PID/stat"; }
hz=$(getconf CLK_TCK)
pgbench_run() {  # port -> "commits tps"
  local out
  out=$("$PGBENCH" -n -h 127.0.0.1 -p "$1" -U freshet -c "$SINGLE_CLIENTS" -j 2 -T "$DURATION" -f "$WORK/single.sql" freshet 2>&1)
  echo "$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$out") $(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out")"
}
for run in $(seq 1 "$RUNS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  if [[ "$PG" == 1 ]]; then
    psql_to "$PG_REF_PORT" -c 'DROP TABLE IF EXISTS single_rows' \
      -c 'CREATE TABLE single_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' || exit 1
    s0=$(psql_to "$PG_REF_PORT" -c 'SELECT wal_sync FROM pg_stat_wal')
    read -r pc ptps < <(pgbench_run "$PG_REF_PORT")
    s1=$(psql_to "$PG_REF_PORT" -c 'SELECT wal_sync FROM pg_stat_wal')
    awk -v c="$pc" -v t="$ptps" -v s=$((s1 - s0)) -v run="$run" 'BEGIN {
      printf "run %d PostgreSQL: %.0f commits/s, %d WAL syncs, %.1f commits per sync\n", run, t, s, c / (s > 0 ? s : 1) }'
  fi
  psql_to "$FRESHET_PORT" -c 'DROP TABLE IF EXISTS single_rows' \
    -c 'CREATE TABLE single_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' || exit 1
  t0=$(cpu_ticks)
  # Counted from 1 s in for DURATION-2 s: perf stat -p follows only the threads that exist when
  # it attaches, and the connection threads (which lead group commits) start with pgbench.
  (sleep 1; perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,instructions,context-switches -p "$FRESHET_PID" -o "$WORK/syncs" \
     -- sleep $((DURATION - 2)) >/dev/null 2>&1) &
  stat_pid=$!
  if [[ "$PERF" == 1 ]]; then
    (sleep 1; perf record ${PERF_ARGS:--g} -o "$WORK/perf.data" -p "$FRESHET_PID" -- sleep $((DURATION - 2)) >/dev/null 2>&1) &
    perf_pid=$!
  fi
  read -r fc ftps < <(pgbench_run "$FRESHET_PORT")
  t1=$(cpu_ticks)
  wait "$stat_pid"
  [[ "$PERF" == 1 ]] && wait "$perf_pid"
  syncs=$(awk -F, '/syscalls/ { s += $1 } END { print s + 0 }' "$WORK/syncs")
  # Instructions and context switches of the server per commit over the same window (commits
  # there: commits/s times its length): what a loaded machine moves least.
  insns=$(awk -F, '$3 ~ /^instructions/ { print $1 + 0 }' "$WORK/syncs")
  switches=$(awk -F, '$3 ~ /^context-switches/ { print $1 + 0 }' "$WORK/syncs")
  awk -v c="$fc" -v t="$ftps" -v d=$((t1 - t0)) -v hz="$hz" -v s="$syncs" -v w=$((DURATION - 2)) -v la="$load" -v run="$run" \
      -v ins="${insns:-0}" -v sw="${switches:-0}" 'BEGIN {
    printf "run %d Freshet: %.0f commits/s, server CPU %.2f s, %.3f ms CPU per commit, %.0f fdatasync/fsync per s, %.1f commits per sync, %.0f instructions and %.1f context switches per commit (load average %s)\n",
           run, t, d / hz, d / hz / c * 1000, s / w, t * w / (s > 0 ? s : 1), ins / (t * w), sw / (t * w), la }'
done
if [[ "$PERF" == 1 ]]; then
  perf report -i "$WORK/perf.data" --no-children --percent-limit 0.8 --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -50
  [[ -n "${PERF_OUT:-}" ]] && cp "$WORK/perf.data" "$PERF_OUT"
fi
