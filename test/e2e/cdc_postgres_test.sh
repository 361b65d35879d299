#!/usr/bin/env bash
# CDC acceptance, PostgreSQL: a real PostgreSQL 15 (wal_level=logical) with tables of assorted
# types and keys (int, bigint, composite, REPLICA IDENTITY FULL without a key) and a
# publication; CREATE SOURCE FROM POSTGRES in Freshet (snapshot of existing rows, then the
# stream); rounds of random INSERT/UPDATE/DELETE upstream (multi-statement transactions,
# rollbacks, failing statements, primary-key changes). After each round, once
# mz_source_statuses.position has reached the upstream LSN of the last commit, every source
# table and three views (a join + aggregate with an index, a materialized view over a join,
# a plain view) equal the same queries run upstream. CDC_ROUNDS / CDC_TXNS scale it.
# (`events` has no key: under REPLICA IDENTITY FULL Freshet keys it by the whole row, so two
# identical rows collapse into one, a documented limit (src/capture/postgres/README.md); the
# test keeps its rows distinct.)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
NAME=cdc_postgres
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: sources are Freshet's)"; exit 0; fi
ROUNDS=${CDC_ROUNDS:-3} TXNS=${CDC_TXNS:-1500}
cdc_trap
fail() { e2e_fail $NAME "$1"; exit 1; }
export PGTZ=UTC PGDATESTYLE=ISO

cdc_pg_start || fail "PostgreSQL did not start"
upg "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region text, vip bool, created date);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, amount numeric(12,2), qty smallint, note text,
  placed timestamptz, attrs jsonb, ref uuid, blob bytea, score float8);
CREATE TABLE line_items (order_id bigint, line int, sku varchar(40), price numeric(10,2), qty int,
  PRIMARY KEY (order_id, line));
CREATE TABLE events (kind text, n int);
ALTER TABLE events REPLICA IDENTITY FULL;
CREATE PUBLICATION p FOR ALL TABLES;" >/dev/null || fail "upstream schema"
# Rows that exist before the source: they arrive through the snapshot.
awk -v seed=1 -v txns=400 -v dialect=postgres -f "$E2E_LIB_DIR/cdc/gen_dml.awk" \
  | psql -X -q -h "$CDC_PG_DIR" -p "$CDC_PG_PORT" -U postgres -d shop >/dev/null 2>&1
upg "INSERT INTO events SELECT 'k' || (g % 7), g FROM generate_series(1, 50) g" >/dev/null

FD=$(cdc_mktemp freshet)
cdc_freshet_start "$FD" || fail "freshet did not start"
cdc_pg_connection || fail "CREATE CONNECTION"
out=$(fsql "CREATE SOURCE shop FROM POSTGRES CONNECTION pg (PUBLICATION 'p') FOR ALL TABLES" 2>&1) \
  || fail "CREATE SOURCE: $out"
fsql "CREATE VIEW region_sales AS SELECT c.region, count(*) AS n, sum(o.amount) AS total, sum(o.qty) AS qty,
        count(o.note) AS notes FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region" >/dev/null \
  || fail "CREATE VIEW region_sales"
fsql "CREATE INDEX region_sales_idx ON region_sales (region)" >/dev/null || fail "CREATE INDEX"
fsql "CREATE MATERIALIZED VIEW customer_value AS SELECT o.customer_id, count(*) AS nlines, sum(li.price * li.qty) AS value,
        max(li.price) AS top_price, min(o.placed) AS first_placed
        FROM orders o JOIN line_items li ON li.order_id = o.id GROUP BY o.customer_id" >/dev/null \
  || fail "CREATE MATERIALIZED VIEW"
fsql "CREATE VIEW vip_orders AS SELECT o.id, c.name, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id
        WHERE c.vip AND o.amount > 100" >/dev/null || fail "CREATE VIEW vip_orders"

REGION_Q="SELECT c.region, count(*) AS n, sum(o.amount) AS total, sum(o.qty) AS qty, count(o.note) AS notes FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region"
VALUE_Q="SELECT o.customer_id, count(*) AS nlines, sum(li.price * li.qty) AS value, max(li.price) AS top_price, min(o.placed) AS first_placed FROM orders o JOIN line_items li ON li.order_id = o.id GROUP BY o.customer_id"
VIP_Q="SELECT o.id, c.name, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.vip AND o.amount > 100"

check_all() {  # check_all LABEL: caught up to the upstream LSN, then everything equal
  local lsn; lsn=$(cdc_pg_lsn)
  cdc_wait_position shop "$lsn" 60 || return 1
  local bad=0
  cdc_compare "$1 customers" "SELECT * FROM customers" upg "SELECT * FROM customers" || bad=1
  cdc_compare "$1 orders" "SELECT * FROM orders" upg "SELECT * FROM orders" || bad=1
  cdc_compare "$1 line_items" "SELECT * FROM line_items" upg "SELECT * FROM line_items" || bad=1
  cdc_compare "$1 events" "SELECT * FROM events" upg "SELECT * FROM events" || bad=1
  cdc_compare "$1 region_sales (indexed view)" "SELECT * FROM region_sales" upg "$REGION_Q" || bad=1
  cdc_compare "$1 region_sales point lookup" "SELECT * FROM region_sales WHERE region = 'north'" upg "$REGION_Q HAVING c.region = 'north'" || bad=1
  cdc_compare "$1 customer_value (materialized view)" "SELECT * FROM customer_value" upg "$VALUE_Q" || bad=1
  cdc_compare "$1 vip_orders (view)" "SELECT * FROM vip_orders" upg "$VIP_Q" || bad=1
  local n; n=$(fsql "SELECT count(*) FROM orders")
  echo "  $1: position $(fsql "SELECT position FROM mz_source_statuses WHERE name = 'shop'") >= $lsn, $n orders"
  return $bad
}

check_all "snapshot" || fail "snapshot differs from upstream"
state=$(fsql "SELECT state, snapshot_rows_done, snapshot_rows_total FROM mz_source_statuses WHERE name = 'shop'")
echo "  status after snapshot: $state"
[[ "$(fsql "SELECT type FROM mz_source_statuses WHERE name = 'shop'")" == postgres ]] || fail "mz_source_statuses.type"
fsql "SHOW SOURCES" | grep -q shop || fail "SHOW SOURCES does not list shop"

for r in $(seq 1 "$ROUNDS"); do
  awk -v seed=$((100 + r)) -v txns="$TXNS" -v dialect=postgres -f "$E2E_LIB_DIR/cdc/gen_dml.awk" \
    | psql -X -q -h "$CDC_PG_DIR" -p "$CDC_PG_PORT" -U postgres -d shop >/dev/null 2>&1
  upg "BEGIN; DELETE FROM events WHERE n % 5 = $r; UPDATE events SET kind = kind || 'u$r' WHERE n % 3 = 0;
       INSERT INTO events VALUES ('r$r', $r), ('s$r', $r); COMMIT;" >/dev/null
  check_all "round $r" || fail "round $r differs from upstream"
  cdc_freshet_alive || fail "freshet exited"
done
err=$(fsql "SELECT state, last_error FROM mz_source_statuses WHERE name = 'shop'")
[[ "$err" == "running|" ]] || fail "source state after the rounds: $err"
# Source tables are read-only.
out=$(fsql_err "INSERT INTO customers VALUES (999999, 'x', 'x', true, '2024-01-01')" 2>&1) && fail "INSERT into a source table was accepted"
echo "  write to a source table: $(echo "$out" | head -1)"
# DROP SOURCE with dependents needs CASCADE; after it the slot is gone upstream.
fsql "DROP SOURCE shop" >/dev/null 2>&1 && fail "DROP SOURCE without CASCADE dropped a source with dependent views"
fsql "DROP SOURCE shop CASCADE" >/dev/null || fail "DROP SOURCE CASCADE"
sleep 0.5
slots=$(upg "SELECT count(*) FROM pg_replication_slots")
[[ "$slots" == 0 ]] || fail "replication slot left upstream after DROP SOURCE ($slots)"
cdc_freshet_alive || fail "freshet exited"
e2e_pass $NAME
