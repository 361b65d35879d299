#!/usr/bin/env bash
# Wall time and server CPU time per query of bench/queries.sql, for Freshet and PostgreSQL 15
# on the same data: the robust number on a shared machine is CPU, and the gap between wall
# and CPU shows how long a query waited for a core (bench/README.md, "Morsels").
#
#   bench/oneshot_cpu.sh                    ROWS=1000000 RUNS=5, both engines, fresh servers
#   KEEP_DIR=/tmp/oc bench/oneshot_cpu.sh   keep (or reuse) the loaded data directories there
#   FRESHET_EXTRA_ARGS='--workers 1' ...    flags for the Freshet server
#   QUERIES='count_sum monthly' ...         a subset of the queries
#
# Freshet's CPU is the server's utime + stime (/proc/PID/stat) around each run; PostgreSQL's
# is the sum over its processes plus the postmaster's reaped children (the parallel workers).
# Prints per query: median wall ms / median CPU ms for each engine, the ratios of the medians,
# and the load average before and after. The server runs in a session of its own (setsid), as
# in bench/analytics.sh: its own scheduler autogroup, as pg_ctl gives PostgreSQL.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${ROWS:=1000000}" "${RUNS:=5}" "${BATCH:=1000}" "${TARGETS:=postgres freshet}" "${QUERIES:=}"
: "${KEEP_DIR:=}"
WORK=$(mktemp -d /tmp/freshet-bench.XXXXXX)
cleanup() { stop_freshet; stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT
TCK=$(getconf CLK_TCK)

# cpu_ticks PID...: utime + stime (+ cutime + cstime for the first, the postmaster) in ticks.
cpu_ticks() {
  local first=1 total=0 p f
  for p in "$@"; do
    f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    f=${f##*) }
    # fields after the comm: state is $1, utime $12, stime $13, cutime $14, cstime $15
    set -- $f
    total=$((total + ${12} + ${13}))
    if ((first)); then total=$((total + ${14} + ${15})); first=0; fi
  done
  echo "$total"
}
pg_pids() { echo "$PG_POSTMASTER_PID" $(pgrep -P "$PG_POSTMASTER_PID"); }

if [[ -n "$KEEP_DIR" ]]; then mkdir -p "$KEEP_DIR"; fi
DATA_SQL="$WORK/data.sql"

declare -A PORT
# start_on_kept_copy: a server (in a session of its own) on a fresh copy of the loaded data
# directory in KEEP_DIR; sets FRESHET_PORT and FRESHET_PID.
start_on_kept_copy() {
  rm -rf "$WORK/fr"; cp -a "$KEEP_DIR/freshet" "$WORK/fr"
  FRESHET_PORT=$(free_port)
  # shellcheck disable=SC2086
  setsid "$FRESHET_BIN" serve --data-dir "$WORK/fr" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$(free_port)" --http-listen "127.0.0.1:$(free_port)" \
    ${FRESHET_EXTRA_ARGS:-} >"$WORK/freshet.log" 2>&1 &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 120 "$FRESHET_PID" || { tail "$WORK/freshet.log"; exit 1; }
}

for t in $TARGETS; do
  case $t in
    postgres)
      start_postgres || exit 1; PORT[$t]=$PG_REF_PORT
      PG_POSTMASTER_PID=$(head -1 "$PG_REF_DIR/data/postmaster.pid" 2>/dev/null || head -1 "$PG_REF_DIR/postmaster.pid")
      ;;
    freshet)
      if [[ -n "$KEEP_DIR" && -d "$KEEP_DIR/freshet" ]]; then
        # Reuse a loaded data directory: start a server on a copy of it.
        start_on_kept_copy; PORT[$t]=$FRESHET_PORT; continue
      fi
      E2E_TARGET=freshet FRESHET_SETSID=1 start_freshet || exit 1; PORT[$t]=$FRESHET_PORT ;;
    *) echo "unknown target $t"; exit 2 ;;
  esac
  trap cleanup EXIT
  [[ -f "$DATA_SQL" ]] || awk -v rows="$ROWS" -v batch="$BATCH" -f "$BENCH_DIR/gen_data.awk" > "$DATA_SQL"
  echo "bench: loading into $t (port ${PORT[$t]})"
  psql -X -q -h 127.0.0.1 -p "${PORT[$t]}" -U freshet -d freshet -v ON_ERROR_STOP=1 -f "$DATA_SQL" \
    >"$WORK/load-$t.log" 2>&1 || { echo "bench: loading into $t failed"; tail -5 "$WORK/load-$t.log"; exit 1; }
  [[ $t == postgres ]] && psql -X -q -h 127.0.0.1 -p "${PORT[$t]}" -U freshet -d freshet -c 'VACUUM ANALYZE' >/dev/null
  if [[ $t == freshet && -n "$KEEP_DIR" ]]; then
    # Restart on the loaded directory so every later run starts the same way.
    kill "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
    cp -a "$FRESHET_DATA_DIR/data" "$KEEP_DIR/freshet"; rm -rf "$FRESHET_DATA_DIR"; FRESHET_DATA_DIR=
    start_on_kept_copy; PORT[$t]=$FRESHET_PORT
  fi
done

# measure TARGET SQL -> "wall_ms cpu_ms" medians of RUNS runs after one warm-up.
measure() {
  local t=$1 sql=$2 i c0 c1 ms walls=() cpus=()
  local port=${PORT[$t]}
  psql -X -q -A -t -h 127.0.0.1 -p "$port" -U freshet -d freshet -c "$sql" >/dev/null 2>&1 || { echo "error error"; return; }
  for i in $(seq 1 "$RUNS"); do
    if [[ $t == freshet ]]; then c0=$(cpu_ticks "$FRESHET_PID"); else c0=$(cpu_ticks $(pg_pids)); fi
    ms=$(psql -X -q -h 127.0.0.1 -p "$port" -U freshet -d freshet -o /dev/null -c '\timing on' -c "$sql" 2>/dev/null |
         sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p')
    if [[ $t == freshet ]]; then c1=$(cpu_ticks "$FRESHET_PID"); else c1=$(cpu_ticks $(pg_pids)); fi
    walls+=("${ms:-0}")
    cpus+=("$(( (c1 - c0) * 1000 / TCK ))")
  done
  local med='{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'
  echo "$(printf '%s\n' "${walls[@]}" | sort -g | awk "$med") $(printf '%s\n' "${cpus[@]}" | sort -g | awk "$med")"
}

echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %14s %14s %8s %8s\n' query "PG wall/CPU" "Fr wall/CPU" "wall" "CPU"
while IFS='|' read -r name sql; do
  [[ -z "$name" || "$name" == --* ]] && continue
  [[ -n "$QUERIES" && " $QUERIES " != *" $name "* ]] && continue
  declare -A W C
  for t in $TARGETS; do read -r W[$t] C[$t] < <(measure "$t" "$sql"); done
  pw=${W[postgres]:-0} pc=${C[postgres]:-0} fw=${W[freshet]:-0} fc=${C[freshet]:-0}
  printf '%-22s %14s %14s %8s %8s\n' "$name" "$pw/$pc" "$fw/$fc" \
    "$(awk -v a="$fw" -v b="$pw" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" \
    "$(awk -v a="$fc" -v b="$pc" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
done <"$BENCH_DIR/queries.sql"
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
