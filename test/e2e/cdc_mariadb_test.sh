#!/usr/bin/env bash
# CDC acceptance, MariaDB: a real MariaDB (log_bin, binlog_format=ROW, binlog_row_image=FULL)
# with tables of assorted types and keys (int, bigint, composite; DECIMAL, DOUBLE, DATETIME,
# DATE, ENUM, TINYINT(1), TEXT, NULLs); CREATE SOURCE FROM MYSQL in Freshet (snapshot of the
# existing rows, then the binlog); rounds of random INSERT/UPDATE/DELETE upstream
# (multi-statement transactions, rollbacks, primary-key changes). After each round, once
# mz_source_statuses.position has reached @@gtid_binlog_pos, every source table and three
# views (a join + aggregate with an index, a materialized view over a join, a plain view)
# equal the same queries run upstream. CDC_ROUNDS / CDC_TXNS scale it.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
NAME=cdc_mariadb
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: sources are Freshet's)"; exit 0; fi
ROUNDS=${CDC_ROUNDS:-3} TXNS=${CDC_TXNS:-1500}
cdc_trap
fail() { e2e_fail $NAME "$1"; exit 1; }

cdc_maria_start || fail "MariaDB did not start"
umy "CREATE TABLE customers (id int PRIMARY KEY, name varchar(100) NOT NULL, region varchar(20), vip bool, created date);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, amount decimal(12,2), qty smallint, note text,
  placed datetime, score double, status enum('new','paid'));
CREATE TABLE line_items (order_id bigint, line int, sku varchar(40), price decimal(10,2), qty int,
  PRIMARY KEY (order_id, line));" || fail "upstream schema"
awk -v seed=1 -v txns=400 -v dialect=mariadb -f "$E2E_LIB_DIR/cdc/gen_dml.awk" \
  | mariadb --no-defaults -uroot -S "$CDC_MY_DIR/sock" -f shop >/dev/null 2>&1

FD=$(cdc_mktemp freshet)
cdc_freshet_start "$FD" || fail "freshet did not start"
cdc_maria_connection || fail "CREATE CONNECTION"
out=$(fsql "CREATE SOURCE m FROM MYSQL CONNECTION my FOR ALL TABLES" 2>&1) || fail "CREATE SOURCE: $out"
fsql "CREATE VIEW region_sales AS SELECT c.region, count(*) AS n, sum(o.amount) AS total, sum(o.qty) AS qty,
        count(o.note) AS notes FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region" >/dev/null \
  || fail "CREATE VIEW region_sales"
fsql "CREATE INDEX region_sales_idx ON region_sales (region)" >/dev/null || fail "CREATE INDEX"
fsql "CREATE MATERIALIZED VIEW customer_value AS SELECT o.customer_id, count(*) AS nlines, sum(li.price * li.qty) AS value,
        max(li.price) AS top_price, min(o.placed) AS first_placed
        FROM orders o JOIN line_items li ON li.order_id = o.id GROUP BY o.customer_id" >/dev/null \
  || fail "CREATE MATERIALIZED VIEW"
fsql "CREATE VIEW vip_orders AS SELECT o.id, c.name, o.amount, o.status FROM orders o JOIN customers c ON c.id = o.customer_id
        WHERE c.vip = 1 AND o.amount > 100" >/dev/null || fail "CREATE VIEW vip_orders"

REGION_Q="SELECT c.region, count(*) AS n, sum(o.amount) AS total, sum(o.qty) AS qty, count(o.note) AS notes FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region"
VALUE_Q="SELECT o.customer_id, count(*) AS nlines, sum(li.price * li.qty) AS value, max(li.price) AS top_price, min(o.placed) AS first_placed FROM orders o JOIN line_items li ON li.order_id = o.id GROUP BY o.customer_id"
VIP_Q="SELECT o.id, c.name, o.amount, o.status FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.vip = 1 AND o.amount > 100"

check_all() {
  local pos; pos=$(cdc_my_gtid)
  cdc_wait_position m "$pos" 60 || return 1
  local bad=0
  cdc_compare "$1 customers" "SELECT * FROM customers" umy_rows "SELECT * FROM customers" || bad=1
  cdc_compare "$1 orders" "SELECT * FROM orders" umy_rows "SELECT * FROM orders" || bad=1
  cdc_compare "$1 line_items" "SELECT * FROM line_items" umy_rows "SELECT * FROM line_items" || bad=1
  cdc_compare "$1 region_sales (indexed view)" "SELECT * FROM region_sales" umy_rows "$REGION_Q" || bad=1
  cdc_compare "$1 region_sales point lookup" "SELECT * FROM region_sales WHERE region = 'north'" umy_rows "$REGION_Q HAVING c.region = 'north'" || bad=1
  cdc_compare "$1 customer_value (materialized view)" "SELECT * FROM customer_value" umy_rows "$VALUE_Q" || bad=1
  cdc_compare "$1 vip_orders (view)" "SELECT * FROM vip_orders" umy_rows "$VIP_Q" || bad=1
  echo "  $1: position $(fsql "SELECT position FROM mz_source_statuses WHERE name = 'm'") >= $pos, $(fsql "SELECT count(*) FROM orders") orders"
  return $bad
}

check_all "snapshot" || fail "snapshot differs from upstream"
[[ "$(fsql "SELECT type FROM mz_source_statuses WHERE name = 'm'")" == mysql ]] || fail "mz_source_statuses.type"
for r in $(seq 1 "$ROUNDS"); do
  awk -v seed=$((100 + r)) -v txns="$TXNS" -v dialect=mariadb -f "$E2E_LIB_DIR/cdc/gen_dml.awk" \
    | mariadb --no-defaults -uroot -S "$CDC_MY_DIR/sock" -f shop >/dev/null 2>&1
  check_all "round $r" || fail "round $r differs from upstream"
  cdc_freshet_alive || fail "freshet exited"
done
err=$(fsql "SELECT state, last_error FROM mz_source_statuses WHERE name = 'm'")
[[ "$err" == "running|" ]] || fail "source state after the rounds: $err"
fsql "DROP SOURCE m CASCADE" >/dev/null || fail "DROP SOURCE CASCADE"
cdc_freshet_alive || fail "freshet exited"
e2e_pass $NAME
