#!/usr/bin/env bash
# SQL Server CDC end to end, against the TDS emulator (test/sqlserver_emulator/README.md; no
# real SQL Server runs here; its capture job lags by 300 ms): the seed's `sales` table (and an insert-only `audit` table, one
# row per upstream transaction) under random inserts, updates, key changes and deletes at
# SS_LOAD_RATE transactions/s, captured by CREATE SOURCE ... FROM SQL SERVER (snapshot taken
# under load), with the seed's sales_anomalies view indexed on top. At every check the load
# pauses, the source catches up to sys.fn_cdc_get_max_lsn(), and
#   * Freshet's sales equals the emulator's dbo.sales at that LSN (every column);
#   * sales_anomalies equals the same view over a copy of the emulator's rows (sales_ref);
#   * audit: count = max(id) = upstream count (no transaction lost; a doubled one would
#     show as a row count above the upstream's only for keyless data, so the position is also
#     checked never to go backwards across restarts).
# Then: kill -9 of Freshet SS_KILLS times under load (default 10), two restarts of the emulator
# under load (kill -9; its journal keeps the database), a restart of Freshet while the emulator
# is down (the source waits, then resumes), a check after each; finally CDC cleanup past the
# stored position while Freshet is down must stop the source with the clear error.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
source "$E2E_LIB_DIR/sqlserver/ss_lib.sh"
NAME=sqlserver_cdc
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: sources are Freshet's)"; exit 0; fi
KILLS=${SS_KILLS:-10}
RATE=${SS_LOAD_RATE:-200}
[[ -x "$SS_EMULATOR_BIN" ]] || { e2e_fail $NAME "emulator not built: $SS_EMULATOR_BIN"; exit 1; }
fail() { e2e_fail $NAME "$1"; [[ -n "${FD:-}" ]] && tail -n 20 "$FD/freshet.log"; exit 1; }

SD=$(cdc_mktemp sqlserver)
trap 'ss_kill_all "$SD"; cdc_cleanup' EXIT
FD=$(cdc_mktemp freshet)
ss_start "$SD" || fail "the emulator did not start"
ss_setup_sales >/dev/null || fail "emulator setup"
ss_ctl "CREATE TABLE dbo.audit (id bigint NOT NULL PRIMARY KEY, ops int)" >/dev/null || fail "audit table"
ss_ctl "EXEC sys.sp_cdc_enable_table dbo.audit" >/dev/null || fail "enable audit"
# The capture job lags the commits by SS_CAPTURE_LAG_MS (default 300), as SQL Server Agent's
# does: the snapshot then sees commits past sys.fn_cdc_get_max_lsn(), which the first polls read
# again; applied as keyed upserts/deletes they must converge to the same rows.
ss_ctl "AGENT LAG ${SS_CAPTURE_LAG_MS:-300}" >/dev/null || fail "agent lag"
ss_ctl "LOAD START 1 $RATE" >/dev/null || fail "load"
sleep 2

cdc_freshet_start "$FD" || fail "freshet did not start"
VIEW_BODY="with recent_sales as (
    select * from %s where mz_now() <= sale_date + interval '7 days'
  ),
  rolling_avg as (
    select customer_id, avg(total_price) as customer_spend_avg from recent_sales group by customer_id
  )
  select a.customer_id, a.customer_spend_avg, s.product_id, s.quantity, s.sale_date, s.sale_id, s.total_price, s.unit_price
  from recent_sales s join rolling_avg a using(customer_id)
  where s.total_price > 1.5 * a.customer_spend_avg"
# shellcheck disable=SC2059
fsql "CREATE SECRET sspw AS 'Fr3shet_pw';
CREATE CONNECTION ss TO SQL SERVER (HOST '127.0.0.1', PORT $SS_PORT, DATABASE 'shop', USER 'freshet', PASSWORD SECRET sspw);
CREATE SOURCE shop FROM SQL SERVER CONNECTION ss FOR TABLES (dbo.sales AS sales, dbo.audit) WITH (POLL INTERVAL '50ms');
create view sales_anomalies as $(printf "$VIEW_BODY" sales);
create index on sales_anomalies (customer_id);
CREATE TABLE sales_ref (sale_id int, product_id int, customer_id int, sale_date timestamp(3), quantity int, unit_price numeric(10,2), total_price numeric(10,2));
create view sales_anomalies_ref as $(printf "$VIEW_BODY" sales_ref);" >/dev/null || fail "CREATE SOURCE / views"

cols=$(fsql "select column_name || ' ' || data_type from information_schema.columns where table_name = 'sales' order by ordinal_position" | tr '\n' ',')
[[ "$cols" == "sale_id integer,product_id integer,customer_id integer,sale_date timestamp without time zone,quantity integer,unit_price numeric,total_price numeric," ]] ||
  fail "sales columns: $cols"
st=$(fsql "SELECT type, snapshot_rows_total > 0, snapshot_rows_done = snapshot_rows_total FROM mz_source_statuses WHERE name = 'shop'")
[[ "$st" == "sql-server|t|t" ]] || fail "status after the snapshot: $st"

last_pos=
checks=0
ROW="sale_id || '|' || product_id || '|' || customer_id || '|' || sale_date || '|' || quantity || '|' || unit_price || '|' || total_price"
AROW="customer_id || ':' || customer_spend_avg || ':' || product_id || ':' || quantity || ':' || sale_date || ':' || sale_id || ':' || total_price || ':' || unit_price"
check() {  # check LABEL: pause the load, catch up, compare; resume
  local label=$1
  ss_ctl "LOAD STOP" >/dev/null
  local i pos st
  for i in $(seq 1 200); do [[ "$(ss_ctl "STATS" | grep PENDING)" == "PENDING 0" ]] && break; sleep 0.05; done
  local max; max=$(ss_ctl "MAXLSN"); max=${max#LSN }
  for i in $(seq 1 600); do
    IFS='|' read -r pos st <<<"$(fsql "SELECT position, state FROM mz_source_statuses WHERE name = 'shop'" 2>/dev/null)"
    [[ -n "$pos" && ( "$pos" > "$max" || "$pos" == "$max" ) ]] && break
    sleep 0.05
  done
  [[ -n "$pos" && ( "$pos" > "$max" ) ]] || { fsql "SELECT * FROM mz_source_statuses" ; fail "$label: position '$pos' did not reach $max"; }
  if [[ -n "$last_pos" && "$pos" < "$last_pos" ]]; then fail "$label: position went backwards ($last_pos -> $pos)"; fi
  last_pos=$pos
  local up ours
  up=$(ss_ctl "DUMP dbo.sales")
  [[ "$(head -1 <<<"$up")" == "LSN $max" ]] || fail "$label: the emulator moved on during the check"
  up=$(tail -n +2 <<<"$up" | tr '\t' '|' | sort)
  ours=$(fsql "SELECT $ROW FROM sales" | sort)
  if [[ "$up" != "$ours" ]]; then
    echo "MISMATCH sales at LSN $max (< freshet, > emulator):"; diff <(echo "$ours") <(echo "$up") | head -n 10
    fail "$label: sales differs from the emulator's dbo.sales"
  fi
  local n_up; n_up=$(grep -c . <<<"$up")
  # sales_ref := the emulator's rows; both views at one timestamp.
  local values
  values=$(tail -n +2 <<<"$(ss_ctl "DUMP dbo.sales")" | awk -F'\t' 'BEGIN { ORS="" } { if (NR > 1) print ","; print "("; for (i = 1; i <= NF; i++) { if (i > 1) print ","; if ($i == "\\N") print "NULL"; else print "'"'"'" $i "'"'"'" } print ")" }')
  fsql "DELETE FROM sales_ref" >/dev/null || fail "$label: DELETE sales_ref"
  [[ -z "$values" ]] || echo "INSERT INTO sales_ref VALUES $values;" |
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$CDC_FRESHET_PORT" -U freshet -d freshet >/dev/null || fail "$label: INSERT sales_ref"
  local v
  v=$(fsql "SELECT (SELECT count(*) FROM sales_anomalies), (SELECT count(*) FROM sales_anomalies_ref),
              (SELECT md5(string_agg($AROW, ',' ORDER BY sale_id)) FROM sales_anomalies) = (SELECT md5(string_agg($AROW, ',' ORDER BY sale_id)) FROM sales_anomalies_ref),
              (SELECT count(*) FROM sales)")
  IFS='|' read -r na nr same ns <<<"$v"
  [[ "$same" == t && "$na" == "$nr" && "$na" -gt 0 && "$ns" == "$n_up" ]] || fail "$label: sales_anomalies $na rows vs reference $nr (same: $same), sales $ns vs $n_up"
  local a
  a=$(fsql "SELECT count(*), max(id), sum(ops) FROM audit")
  local up_audit; up_audit=$(tail -n +2 <<<"$(ss_ctl "DUMP dbo.audit")" | awk -F'\t' '{ n++; if ($1 > m) m = $1; s += $2 } END { print n "|" m "|" s }')
  IFS='|' read -r ac am as <<<"$a"
  [[ "$a" == "$up_audit" && "$ac" == "$am" ]] || fail "$label: audit (count|max|sum) $a vs emulator $up_audit"
  checks=$((checks + 1))
  echo "  ok $label: LSN $max, $ns sales rows, $na anomalies, $ac transactions"
  ss_ctl "LOAD START $((RANDOM + 2)) $RATE" >/dev/null
}

check "snapshot + streaming"
sleep 2
check "streaming"

# kill -9 of Freshet under load.
for k in $(seq 1 "$KILLS"); do
  sleep "0.$((RANDOM % 9 + 1))"
  cdc_freshet_kill9
  cdc_freshet_start "$FD" || fail "freshet did not restart after kill $k"
  if ((k % 3 == 0 || k == KILLS)); then check "after kill -9 #$k"; fi
done

# The emulator restarts (kill -9; the journal keeps the database) under load, twice.
for r in 1 2; do
  sleep 1
  ss_kill
  sleep 0.5
  ss_start "$SD" || fail "the emulator did not restart"
  ss_ctl "LOAD START $((RANDOM + 2)) $RATE" >/dev/null
  sleep 2
  check "after emulator restart #$r"
done

# Freshet restarts while the emulator is down: the source waits for it, then resumes.
sleep 1
ss_kill
cdc_freshet_kill9
cdc_freshet_start "$FD" || fail "freshet did not restart while the emulator was down"
IFS='|' read -r st err <<<"$(fsql "SELECT state, last_error FROM mz_source_statuses WHERE name = 'shop'")"
[[ "$st" == starting && "$err" == *"cannot connect to 127.0.0.1:$SS_PORT"* ]] || fail "while the emulator is down: state '$st', error '$err'"
echo "  ok while the emulator is down: $st, ${err:0:100}"
sleep 1
ss_start "$SD" || fail "the emulator did not restart"
ss_ctl "LOAD START $((RANDOM + 2)) $RATE" >/dev/null
sleep 2
check "after Freshet restarted during the emulator's outage"

# CDC cleanup past the stored position while Freshet is down: a clear error, never a gap.
ss_ctl "LOAD STOP" >/dev/null
cdc_freshet_stop
ss_ctl "INSERT INTO dbo.sales VALUES (999999, 1, 1, '2026-01-01 00:00:00', 1, 1.00, 1.00)" >/dev/null || fail "insert"
ss_ctl "INSERT INTO dbo.sales VALUES (999998, 1, 1, '2026-01-01 00:00:00', 1, 1.00, 1.00)" >/dev/null || fail "insert"
for i in $(seq 1 200); do [[ "$(ss_ctl "STATS" | grep PENDING)" == "PENDING 0" ]] && break; sleep 0.05; done
ss_ctl "CLEANUP ALL" >/dev/null || fail "cleanup"
cdc_freshet_start "$FD" || fail "freshet did not restart after the cleanup"
err=
for i in $(seq 1 200); do
  IFS='|' read -r st err <<<"$(fsql "SELECT state, last_error FROM mz_source_statuses WHERE name = 'shop'")"
  [[ "$st" == error ]] && break
  sleep 0.05
done
[[ "$st" == error && "$err" == *"CDC cleanup removed changes this source has not read"*"drop and recreate the source"* ]] ||
  fail "after cleanup past the position: state '$st', error '$err'"
echo "  ok cleanup: $err"
[[ -z "$(fsql "SELECT sale_id FROM sales WHERE sale_id >= 999998")" ]] || fail "rows after the gap were applied"
cdc_freshet_alive || fail "freshet died"

echo "  $KILLS kills of Freshet, 2 emulator restarts, $checks checks"
e2e_pass $NAME
