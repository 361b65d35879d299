#!/usr/bin/env bash
# Incremental views: Freshet's indexed views vs PostgreSQL 15's materialized views, same data
# (bench/gen_data.awk: sales ROWS, customers 10k, products 1k), same client
# (tools/bench_incremental, libpq, prepared statements). See bench/README.md, "Incremental views".
#
#   bench/incremental.sh                       ROWS=1000000 UPDATES=500 THREADS=16 LOOKUP_SECONDS=10 RUNS=3
#   ROWS=100000 UPDATES=200 LOOKUP_SECONDS=5 bench/incremental.sh      (quicker)
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${ROWS:=1000000}" "${BATCH:=1000}" "${UPDATES:=500}" "${THREADS:=16}" "${LOOKUP_SECONDS:=10}" "${RUNS:=3}"
BUILD_DIR=$(dirname "$FRESHET_BIN")
CLIENT=${BENCH_CLIENT:-$BUILD_DIR/bench_incremental}
[[ -x "$CLIENT" ]] || { echo "bench: $CLIENT not built (ninja -C $BUILD_DIR bench_incremental)"; exit 2; }
WORK=$(mktemp -d /tmp/freshet-bench-inc.XXXXXX)
cleanup() { stop_freshet; stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT

# The view: a 3-table join grouped by customer region and product category (40 groups).
SEG_SQL="SELECT c.region, p.category, count(*) AS orders, sum(s.qty) AS units, sum(s.qty * s.price) AS revenue
  FROM sales s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = s.product_id
  GROUP BY c.region, p.category"
# The point-lookup target: per-customer totals (10k keys).
CUST_SQL="SELECT customer_id, count(*) AS orders, sum(qty) AS units, sum(qty * price) AS revenue
  FROM sales GROUP BY customer_id"
LOOKUP_SQL='SELECT * FROM cust_sales WHERE customer_id = $1'

psql_to() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U freshet -d freshet -v ON_ERROR_STOP=1 "${@:2}"; }
now_s() { date +%s.%N; }
since() { awk -v a="$(now_s)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }

echo "bench: generating $ROWS sales rows ($BATCH rows per INSERT)"
awk -v rows="$ROWS" -v batch="$BATCH" -f "$BENCH_DIR/gen_data.awk" > "$WORK/data.sql"

start_postgres || exit 1
E2E_TARGET=freshet start_freshet || exit 1
trap cleanup EXIT
FR=$FRESHET_PORT PG=$PG_REF_PORT

for side in PG FR; do
  port=${!side}
  t0=$(now_s)
  psql_to "$port" -f "$WORK/data.sql" >"$WORK/load-$side.log" 2>&1 || { echo "bench: load into $side failed"; tail -5 "$WORK/load-$side.log"; exit 1; }
  declare "LOAD_$side=$(since "$t0")"
done
psql_to "$PG" -c 'VACUUM ANALYZE' >/dev/null
echo "bench: loaded (PostgreSQL $LOAD_PG s, Freshet $LOAD_FR s)"

# Freshet: indexed views (the dataflows hydrate from the loaded tables).
t0=$(now_s)
psql_to "$FR" -c "CREATE VIEW seg_sales AS $SEG_SQL" -c 'CREATE INDEX ON seg_sales (region, category)' \
  -c "CREATE VIEW cust_sales AS $CUST_SQL" -c 'CREATE INDEX ON cust_sales (customer_id)' >/dev/null || exit 1
CREATE_FR=$(since "$t0")
t0=$(now_s)
psql_to "$FR" -c 'CREATE VIEW sales_all AS SELECT * FROM sales' -c 'CREATE INDEX ON sales_all (id)' >/dev/null || exit 1
CREATE_FR_ALL=$(since "$t0")
# PostgreSQL: the same queries as materialized views, with unique indexes for the lookups.
t0=$(now_s)
psql_to "$PG" -c "CREATE MATERIALIZED VIEW seg_sales AS $SEG_SQL" -c 'CREATE UNIQUE INDEX ON seg_sales (region, category)' \
  -c "CREATE MATERIALIZED VIEW cust_sales AS $CUST_SQL" -c 'CREATE UNIQUE INDEX ON cust_sales (customer_id)' >/dev/null || exit 1
CREATE_PG=$(since "$t0")

# Both engines must agree on the views before anything is timed.
for v in seg_sales cust_sales; do
  psql_to "$FR" -c "SELECT * FROM $v ORDER BY 1, 2" >"$WORK/$v-FR.txt"
  psql_to "$PG" -c "SELECT * FROM $v ORDER BY 1, 2" >"$WORK/$v-PG.txt"
  if ! cmp -s "$WORK/$v-FR.txt" "$WORK/$v-PG.txt"; then
    echo "bench: WARNING: $v differs between Freshet and PostgreSQL:"; diff "$WORK/$v-PG.txt" "$WORK/$v-FR.txt" | head -5
  fi
done

field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }

echo "bench: PostgreSQL REFRESH MATERIALIZED VIEW seg_sales x $RUNS"
REFRESH=$("$CLIENT" exec --port "$PG" --runs "$RUNS" --sql 'REFRESH MATERIALIZED VIEW seg_sales') || exit 1
echo "  $REFRESH"
echo "bench: Freshet: $UPDATES single-row UPDATEs, each followed by point lookups of its group until visible"
LAT=$("$CLIENT" latency --port "$FR" --updates "$UPDATES" --rows "$ROWS") || exit 1
echo "  $LAT"
echo "bench: PostgreSQL: the same UPDATEs' acknowledgement (its view changes only at a REFRESH)"
PGUPD=$("$CLIENT" latency --wait 0 --port "$PG" --updates "$UPDATES" --rows "$ROWS") || exit 1
echo "  $PGUPD"
# Both views again after the updates (Freshet maintained, PostgreSQL refreshed).
psql_to "$PG" -c 'REFRESH MATERIALIZED VIEW seg_sales' >/dev/null
psql_to "$FR" -c "SELECT * FROM seg_sales ORDER BY 1, 2" >"$WORK/seg2-FR.txt"
psql_to "$PG" -c "SELECT * FROM seg_sales ORDER BY 1, 2" >"$WORK/seg2-PG.txt"
SAME_AFTER=yes; cmp -s "$WORK/seg2-FR.txt" "$WORK/seg2-PG.txt" || SAME_AFTER=NO

echo "bench: point lookups, $THREADS clients x ${LOOKUP_SECONDS} s: $LOOKUP_SQL"
LK_FR=$("$CLIENT" lookups --port "$FR" --threads "$THREADS" --seconds "$LOOKUP_SECONDS" --keys 10000 --sql "$LOOKUP_SQL") || exit 1
echo "  Freshet    $LK_FR"
LK_PG=$("$CLIENT" lookups --port "$PG" --threads "$THREADS" --seconds "$LOOKUP_SECONDS" --keys 10000 --sql "$LOOKUP_SQL") || exit 1
echo "  PostgreSQL $LK_PG"
LK_PGPK=$("$CLIENT" lookups --port "$PG" --threads "$THREADS" --seconds "$LOOKUP_SECONDS" --keys 10000 --sql 'SELECT * FROM customers WHERE id = $1') || exit 1
echo "  PostgreSQL $LK_PGPK  (customers primary key)"

# Memory: bytes per arranged row, next to the rows' size in PostgreSQL (pg_column_size of the
# whole row, i.e. the tuple's data without its 24-byte header and item pointer).
psql_to "$FR" -F '|' -c 'SELECT object_name, object_type, records, bytes FROM mz_arrangement_sizes ORDER BY object_name' >"$WORK/sizes.txt"
raw() { psql_to "$PG" -c "SELECT round(avg(pg_column_size(t.*)), 1) FROM $1 t"; }
declare -A RAW=([seg_sales]=$(raw seg_sales) [cust_sales]=$(raw cust_sales) [sales_all]=$(raw sales))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3gx", a / b; else print "-" }'; }
REF_MED=$(field median_ms "$REFRESH")
echo
echo "=== incremental views: $ROWS sales rows, 10k customers, 1k products ==="
printf '%-46s %14s %14s %10s\n' metric Freshet PostgreSQL "PG/Freshet"
printf '%-46s %14s %14s %10s\n' ---------------------------------------------- -------------- -------------- ----------
printf '%-46s %14s %14s %10s\n' "view fresh after 1-row UPDATE, p50 ms" "$(field visible_p50_ms "$LAT")" "$REF_MED" "$(ratio "$REF_MED" "$(field visible_p50_ms "$LAT")")"
printf '%-46s %14s %14s %10s\n' "view fresh after 1-row UPDATE, p99 ms" "$(field visible_p99_ms "$LAT")" "$(echo "$REFRESH" | sed -nE 's/.*all_ms=//p' | tr , '\n' | sort -g | tail -1)" ""
printf '%-46s %14s %14s %10s\n' "  (PostgreSQL: REFRESH MATERIALIZED VIEW)" "" "" ""
printf '%-46s %14s %14s %10s\n' "UPDATE acknowledged, p50 ms" "$(field ack_p50_ms "$LAT")" "$(field ack_p50_ms "$PGUPD")" "$(ratio "$(field ack_p50_ms "$PGUPD")" "$(field ack_p50_ms "$LAT")")"
printf '%-46s %14s %14s %10s\n' "lookups until the change was visible, avg/max" "$(field lookups_per_update_avg "$LAT")/$(field lookups_per_update_max "$LAT")" "-" ""
printf '%-46s %14s %14s %10s\n' "point lookups/s, $THREADS clients (cust_sales)" "$(field qps "$LK_FR")" "$(field qps "$LK_PG")" "$(ratio "$(field qps "$LK_PG")" "$(field qps "$LK_FR")")"
printf '%-46s %14s %14s %10s\n' "  lookup p50 / p99 ms" "$(field p50_ms "$LK_FR")/$(field p99_ms "$LK_FR")" "$(field p50_ms "$LK_PG")/$(field p99_ms "$LK_PG")" ""
printf '%-46s %14s %14s %10s\n' "PostgreSQL primary-key lookups/s (customers)" "" "$(field qps "$LK_PGPK")" ""
printf '%-46s %14s %14s %10s\n' "create views + indexes (s)" "$CREATE_FR" "$CREATE_PG" ""
printf '%-46s %14s %14s %10s\n' "  index over all sales rows (sales_all) (s)" "$CREATE_FR_ALL" "" ""
printf '%-46s %14s %14s %10s\n' "load (s)" "$LOAD_FR" "$LOAD_PG" ""
echo
printf '%-12s %-18s %10s %12s %10s %14s %8s\n' arrangement type records bytes bytes/row "PG row bytes" ratio
while IFS='|' read -r name type records bytes; do
  [[ -n "$name" ]] || continue
  per=$(awk -v b="$bytes" -v r="$records" 'BEGIN { if (r > 0) printf "%.1f", b / r; else print "-" }')
  rawb=${RAW[$name]:-}
  printf '%-12s %-18s %10s %12s %10s %14s %8s\n' "$name" "$type" "$records" "$bytes" "$per" "${rawb:--}" "$( [[ -n "$rawb" && "$per" != - ]] && ratio "$per" "$rawb")"
done <"$WORK/sizes.txt"
echo
echo "seg_sales equal in both engines after the updates: $SAME_AFTER"
echo "(ratio PG/Freshet > 1: Freshet is faster; bytes ratio = Freshet bytes per arranged row / PostgreSQL row bytes)"
