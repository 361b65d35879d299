#!/usr/bin/env bash
# Analytical queries over ~1M sales rows joined with customers and products, timed in
# PostgreSQL 15 and in Freshet, started side by side on loopback ports and stopped afterwards,
# and in an in-process DuckDB (bench/analytics_duckdb.js) on the same data.
#
#   bench/analytics.sh                 ROWS=1000000 RUNS=5 by default
#   ROWS=100000 RUNS=3 bench/analytics.sh
#   TARGETS=postgres bench/analytics.sh     (only one engine; default "postgres freshet duckdb")
#
# Prints: query | PostgreSQL, Freshet, DuckDB median ms | Freshet / PostgreSQL |
# Freshet / DuckDB | whether Freshet's and DuckDB's results equal PostgreSQL's.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${ROWS:=1000000}" "${RUNS:=5}" "${BATCH:=1000}" "${TARGETS:=postgres freshet duckdb}"
: "${QUERY_TIMEOUT_S:=300}"
WORK=$(mktemp -d /tmp/freshet-bench.XXXXXX)
cleanup() { stop_freshet; stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT

echo "bench: generating $ROWS sales rows ($BATCH rows per INSERT)"
awk -v rows="$ROWS" -v batch="$BATCH" -f "$BENCH_DIR/gen_data.awk" > "$WORK/data.sql"

declare -A PORT LOAD_S DUCK_MS
for t in $TARGETS; do
  case $t in
    duckdb) continue ;;
    postgres) start_postgres || exit 1; PORT[$t]=$PG_REF_PORT ;;
    freshet) E2E_TARGET=freshet FRESHET_SETSID=1 start_freshet || exit 1; PORT[$t]=$FRESHET_PORT ;;
    *) echo "unknown target $t"; exit 2 ;;
  esac
  trap cleanup EXIT
  echo "bench: loading into $t (port ${PORT[$t]})"
  t0=$(date +%s.%N)
  if ! psql -X -q -h 127.0.0.1 -p "${PORT[$t]}" -U freshet -d freshet -v ON_ERROR_STOP=1 \
       -f "$WORK/data.sql" >"$WORK/load-$t.log" 2>&1; then
    echo "bench: loading into $t failed:"; tail -5 "$WORK/load-$t.log"; PORT[$t]=""
    continue
  fi
  [[ $t == postgres ]] && psql -X -q -h 127.0.0.1 -p "${PORT[$t]}" -U freshet -d freshet -c 'VACUUM ANALYZE' >/dev/null
  LOAD_S[$t]=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
  printf 'bench: %s loaded in %.1f s\n' "$t" "${LOAD_S[$t]}"
done

# time_query TARGET SQL -> prints the median ms of RUNS runs after one warm-up, or "error".
time_query() {
  local t=$1 sql=$2 i ms times=()
  local port=${PORT[$t]}
  [[ -n "$port" ]] || { echo "n/a"; return; }
  if ! timeout "$QUERY_TIMEOUT_S" psql -X -q -A -t -h 127.0.0.1 -p "$port" -U freshet -d freshet \
       -v ON_ERROR_STOP=1 -c "$sql" >"$WORK/result-$t.txt" 2>&1; then
    echo "error"; return
  fi
  for i in $(seq 1 "$RUNS"); do
    ms=$(timeout "$QUERY_TIMEOUT_S" psql -X -q -h 127.0.0.1 -p "$port" -U freshet -d freshet \
           -o /dev/null -c '\timing on' -c "$sql" 2>/dev/null | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p')
    [[ -n "$ms" ]] || { echo "error"; return; }
    times+=("$ms")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f\n", m}'
}

# DuckDB: loads and runs every query in one node process; medians land in DUCK_MS.
if [[ " $TARGETS " == *" duckdb "* ]]; then
  echo "bench: loading into duckdb (in process)"
  t0=$(date +%s.%N)
  if RUNS=$RUNS node "$BENCH_DIR/analytics_duckdb.js" "$WORK/data.sql" "$BENCH_DIR/queries.sql" "$WORK" \
       >"$WORK/duckdb.out" 2>"$WORK/duckdb.err"; then
    while IFS=$'\t' read -r name ms; do DUCK_MS[$name]=$ms; done <"$WORK/duckdb.out"
  else
    echo "bench: duckdb failed:"; tail -5 "$WORK/duckdb.err"
  fi
  grep -h '^bench:' "$WORK/duckdb.err" 2>/dev/null
  LOAD_S[duckdb]=$(sed -nE 's/^bench: duckdb loaded in ([0-9.]+) s/\1/p' "$WORK/duckdb.err")
fi

ratio() { [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }' || echo -; }
echo
printf '%-22s %10s %10s %10s %8s %8s  %s\n' query "PG ms" "Freshet ms" "DuckDB ms" "Fr/PG" "Fr/Duck" "same result as PG (Freshet, DuckDB)"
printf '%-22s %10s %10s %10s %8s %8s  %s\n' ---------------------- ---------- ---------- ---------- -------- -------- -----------
while IFS='|' read -r name sql; do
  [[ -z "$name" || "$name" == --* ]] && continue
  pg=n/a fr=n/a dk=n/a same_fr=- same_dk=-
  rm -f "$WORK/r-pg.txt" "$WORK/r-fr.txt"
  [[ " $TARGETS " == *" postgres "* ]] && { pg=$(time_query postgres "$sql"); cp "$WORK/result-postgres.txt" "$WORK/r-pg.txt" 2>/dev/null; }
  [[ " $TARGETS " == *" freshet "* ]] && { fr=$(time_query freshet "$sql"); cp "$WORK/result-freshet.txt" "$WORK/r-fr.txt" 2>/dev/null; }
  [[ " $TARGETS " == *" duckdb "* ]] && dk=${DUCK_MS[$name]:-error}
  if [[ -f "$WORK/r-pg.txt" ]]; then
    [[ -f "$WORK/r-fr.txt" ]] && { cmp -s "$WORK/r-pg.txt" "$WORK/r-fr.txt" && same_fr=yes || same_fr=NO; }
    [[ -f "$WORK/result-duckdb-$name.txt" ]] && { cmp -s "$WORK/r-pg.txt" "$WORK/result-duckdb-$name.txt" && same_dk=yes || same_dk=NO; }
  fi
  printf '%-22s %10s %10s %10s %8s %8s  %s\n' "$name" "$pg" "$fr" "$dk" "$(ratio "$fr" "$pg")" "$(ratio "$fr" "$dk")" "$same_fr, $same_dk"
done < "$BENCH_DIR/queries.sql"
echo
for t in $TARGETS; do [[ -n "${LOAD_S[$t]:-}" ]] && printf 'load %-9s %.1f s for %d sales rows\n' "$t" "${LOAD_S[$t]}" "$ROWS"; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(median of $RUNS runs after one warm-up; PostgreSQL and Freshet client-side time by psql \\timing,"
echo " DuckDB in-process time; a ratio > 1 means Freshet is slower)"
