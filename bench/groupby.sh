#!/usr/bin/env bash
# One-shot GROUP BY on Freshet (1 and 2 workers) and PostgreSQL 15: ROWS rows (1M) in a plain
# table, grouped into NGROUPS (10,000) groups with count, sum and min/max of text; RUNS (5) runs
# per engine, the median wall time reported, and for Freshet the server's CPU time per run
# (user + system, from /proc: less sensitive than wall time to a loaded machine). See bench/README.md, "Data layout".
#
#   bench/groupby.sh                 ROWS=1000000 NGROUPS=10000 RUNS=5 WORKERS_LIST="1 2"
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${ROWS:=1000000}" "${NGROUPS:=10000}" "${RUNS:=5}" "${WORKERS_LIST:=1 2}" "${PG:=1}"
# start_freshet / start_postgres (test/e2e/lib.sh) stop the servers and remove their
# directories on exit.
QUERY="SELECT g, count(*), sum(id), min(s), max(s) FROM t GROUP BY g"
LOAD="CREATE TABLE t (id bigint, g int, s text);
INSERT INTO t SELECT i, i % $NGROUPS, 'row-' || (i::bigint * 7919 % $ROWS)::text FROM generate_series(1, $ROWS) AS i;"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FRESHET_PID/stat"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# time_query PORT: RUNS timings of QUERY (seconds, from psql's \timing), their median.
time_query() {
  for ((r = 0; r < RUNS; r++)); do
    psql -X -q -h 127.0.0.1 -p "$1" -U freshet -d freshet -v ON_ERROR_STOP=1 \
      -c '\timing on' -c "SELECT count(*) FROM ($QUERY) q" | awk '/^Time:/ { print $2 / 1000 }'
  done | median
}
echo "groupby: $ROWS rows, $NGROUPS groups, median of $RUNS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "query: $QUERY"
for w in $WORKERS_LIST; do
  FRESHET_EXTRA_ARGS="--workers $w" start_freshet || exit 1
  psql -X -q -h 127.0.0.1 -p "$FRESHET_PORT" -U freshet -d freshet -v ON_ERROR_STOP=1 -c "$LOAD" >/dev/null || exit 1
  c0=$(cpu_ticks)
  wall=$(time_query "$FRESHET_PORT")
  cpu=$(awk -v a="$c0" -v b="$(cpu_ticks)" -v hz="$(getconf CLK_TCK)" -v n="$RUNS" 'BEGIN { printf "%.2f", (b - a) / hz / n }')
  echo "freshet --workers $w: $wall s (server CPU $cpu s per run)"
  stop_freshet
done
if [[ "$PG" == 1 ]]; then
  start_postgres || exit 1
  psql -X -q -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d freshet -v ON_ERROR_STOP=1 -c "$LOAD" -c "VACUUM ANALYZE t" >/dev/null || exit 1
  echo "postgresql 15: $(time_query "$PG_REF_PORT") s"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
