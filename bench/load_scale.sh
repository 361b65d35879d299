#!/usr/bin/env bash
# Loading a large table as bench/concurrency.sh does (INSERT ... SELECT FROM generate_series,
# LOAD_BATCH rows a statement, into `big (id bigint PRIMARY KEY, grp bigint, v bigint, pad
# text)`), Freshet next to PostgreSQL 15 (fsync on in both), printing each statement's wall
# time and, for Freshet, the server's CPU time (/proc/PID/stat utime+stime, all threads) and
# RSS, then rows/s at every SIZES mark. A load whose cost per row grows with the table shows
# statements that get slower as the table grows (bench/README.md, "Concurrency").
#
#   SIZES="1000000 2000000 4000000" LOAD_BATCH=1000000 bench/load_scale.sh
#   FRESHET_BIN=/path/to/other/freshet PG=0 bench/load_scale.sh     (Freshet only)
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${SIZES:=1000000 2000000 4000000}" "${LOAD_BATCH:=1000000}" "${PG:=1}"
ROWS=0
for s in $SIZES; do ((s > ROWS)) && ROWS=$s; done

start_postgres_durable() {
  PG_REF_DIR=$(mktemp -d /tmp/freshet-pg.XXXXXX)
  chmod 755 "$PG_REF_DIR"
  [[ $(id -u) -eq 0 ]] && { id "$PG_OS_USER" >/dev/null 2>&1 || useradd -m "$PG_OS_USER"; chown "$PG_OS_USER" "$PG_REF_DIR"; }
  _as_pg_user "'$PG_BIN/initdb' -D '$PG_REF_DIR/data' -A trust -U freshet >'$PG_REF_DIR/initdb.log' 2>&1" ||
    { echo "bench: initdb failed"; cat "$PG_REF_DIR/initdb.log"; return 1; }
  PG_REF_PORT=$(free_port)
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$PG_REF_DIR/data' -l '$PG_REF_DIR/log' -w -t 60 \
       -o \"-p $PG_REF_PORT -k '$PG_REF_DIR' -c listen_addresses=127.0.0.1 -c fsync=on \
           -c synchronous_commit=on -c shared_buffers=256MB\" start >/dev/null" ||
    { echo "bench: pg_ctl start failed"; cat "$PG_REF_DIR/log"; return 1; }
  psql -X -q -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d postgres -c 'CREATE DATABASE freshet' >/dev/null
  export PG_REF_PORT PG_REF_DIR
}
cleanup() { stop_freshet; stop_postgres; }
trap cleanup EXIT
if ((PG)); then start_postgres_durable || exit 1; fi
E2E_TARGET=freshet start_freshet || exit 1
trap cleanup EXIT
psql_to() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U freshet -d freshet -v ON_ERROR_STOP=1 "${@:2}"; }
hz=$(getconf CLK_TCK)
cpu_s() { awk -v hz="$hz" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$FRESHET_PID/stat"; }
# PostgreSQL's CPU: the postmaster, its live children and the reaped ones (each psql's backend
# exits with its connection and is counted in the postmaster's cutime/cstime).
pg_cpu_s() {
  local pm
  pm=$(head -1 "$PG_REF_DIR/data/postmaster.pid")
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
    for c in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null; done; } |
    awk -v hz="$hz" '{ t += $1 } END { printf "%.2f", t / hz }'
}
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$FRESHET_PID/status"; }
echo "bench: load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $ROWS rows, $LOAD_BATCH a statement"

declare -A AT
sides="FR"
((PG)) && sides="PG FR"
for side in $sides; do
  port=$([[ $side == PG ]] && echo "$PG_REF_PORT" || echo "$FRESHET_PORT")
  psql_to "$port" -c 'CREATE TABLE big (id bigint PRIMARY KEY, grp bigint NOT NULL, v bigint NOT NULL, pad text NOT NULL)' >/dev/null || exit 1
  t0=$(date +%s.%N)
  c0=$([[ $side == FR ]] && cpu_s || pg_cpu_s)
  for ((lo = 1; lo <= ROWS; lo += LOAD_BATCH)); do
    hi=$((lo + LOAD_BATCH - 1 > ROWS ? ROWS : lo + LOAD_BATCH - 1))
    s0=$(date +%s.%N)
    cs0=$([[ $side == FR ]] && cpu_s || pg_cpu_s)
    psql_to "$port" -c "INSERT INTO big SELECT g, g % 10000, g % 997, 'padding-abcdefgh' FROM generate_series($lo, $hi) AS g" >/dev/null || exit 1
    s1=$(date +%s.%N)
    if [[ $side == FR ]]; then
      cs1=$(cpu_s)
      echo "  $side rows $lo..$hi: $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }') s wall, server CPU $(awk -v a="$cs0" -v b="$cs1" 'BEGIN { printf "%.2f", b - a }') s (total $(awk -v a="$c0" -v b="$cs1" 'BEGIN { printf "%.2f", b - a }') s), RSS $(rss_mb) MB, load $(cut -d' ' -f1 /proc/loadavg)"
    else
      cs1=$(pg_cpu_s)
      echo "  $side rows $lo..$hi: $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }') s wall, server CPU $(awk -v a="$cs0" -v b="$cs1" 'BEGIN { printf "%.2f", b - a }') s, load $(cut -d' ' -f1 /proc/loadavg)"
    fi
    for s in $SIZES; do
      if ((hi == s)); then
        AT[$side,$s]="$(awk -v a="$t0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }') $(awk -v a="$c0" -v b="$([[ $side == FR ]] && cpu_s || pg_cpu_s)" 'BEGIN { printf "%.2f", b - a }')"
      fi
    done
  done
done
# The server's CPU keeps running after the last statement (background compaction of the
# tables' collection): report it after a pause too.
sleep "${SETTLE_S:-15}"
echo "  FR server CPU ${SETTLE_S:-15} s after the load: $(awk -v a="$c0" -v b="$(cpu_s)" 'BEGIN { printf "%.2f", b - a }') s, RSS $(rss_mb) MB"
echo
echo "=== loading big, $LOAD_BATCH rows a statement (cumulative at each size) ==="
printf '%-10s %9s %9s %10s %9s %9s %10s %7s %7s\n' rows "FR wall s" "FR CPU s" "FR rows/s" "PG wall s" "PG CPU s" "PG rows/s" "wall" "CPU"
for s in $SIZES; do
  read -r fw fc <<<"${AT[FR,$s]:-- -}"
  read -r pw pc <<<"${AT[PG,$s]:-- -}"
  printf '%-10s %9s %9s %10s %9s %9s %10s %7s %7s\n' "$s" "$fw" "$fc" \
    "$(awk -v n="$s" -v t="$fw" 'BEGIN { if (t != "-" && t > 0) printf "%.0f", n / t; else print "-" }')" "$pw" "$pc" \
    "$(awk -v n="$s" -v t="$pw" 'BEGIN { if (t != "-" && t > 0) printf "%.0f", n / t; else print "-" }')" \
    "$(awk -v a="$fw" -v b="$pw" 'BEGIN { if (a != "-" && b != "-" && a > 0) printf "%.2f", b / a; else print "-" }')" \
    "$(awk -v a="$fc" -v b="$pc" 'BEGIN { if (a != "-" && b != "-" && a > 0) printf "%.2f", b / a; else print "-" }')"
done
echo "(wall, CPU: Freshet's rows/s over PostgreSQL's, by wall time and by server CPU time; > 1: Freshet is faster)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
