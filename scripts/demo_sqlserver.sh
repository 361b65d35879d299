#!/usr/bin/env bash
# `make demo-sqlserver`: the seed tutorial's first step — SQL Server CDC on a `sales` table
# captured continuously into Freshet — as a SIMULATION: the SQL Server is
# test/sqlserver_emulator (a TDS server with an in-memory CDC model, see its README), not a
# real one. It creates dbo.sales with CDC enabled, runs random inserts/updates/deletes on it
# (RATE transactions/s, default 20), starts `freshet serve`, runs the seed's SQL
# (CREATE CONNECTION ... TO SQL SERVER, CREATE SOURCE ... FROM SQL SERVER, the sales_anomalies
# view and its index) and shows the source status and the anomalies every 2 s.
# PORT=... picks Freshet's port (default 6875); DURATION=30 stops after 30 s; Ctrl-C stops.
# Data lives in build/demo-sqlserver (removed at the end unless KEEP=1).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/test/e2e/lib.sh"
source "$ROOT/test/e2e/sqlserver/ss_lib.sh"
BIN="${FRESHET_BIN:-$ROOT/build/release/freshet}"
PORT="${PORT:-6875}"
RATE="${RATE:-20}"
DIR="$ROOT/build/demo-sqlserver"
[[ -x "$BIN" && -x "$SS_EMULATOR_BIN" ]] || { echo "demo: build first (make release)" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "demo: port $PORT is in use (another freshet?). Try: make demo-sqlserver PORT=6877" >&2; exit 1
fi
rm -rf "$DIR"; mkdir -p "$DIR"
FPID=
cleanup() {
  [[ -n "$FPID" ]] && { kill "$FPID"; wait "$FPID"; } 2>/dev/null
  ss_kill_all "$DIR"
  [[ -n "${KEEP:-}" ]] || rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

echo "demo: SIMULATION — the SQL Server is test/sqlserver_emulator, not a real SQL Server"
ss_start "$DIR" || exit 1
ss_setup_sales >/dev/null || { echo "demo: emulator setup failed" >&2; exit 1; }
ss_ctl "LOAD START 42 $RATE" >/dev/null

"$BIN" serve --data-dir "$DIR/data" --pg-listen "127.0.0.1:$PORT" --kafka-listen off --http-listen off >"$DIR/freshet.log" 2>&1 &
FPID=$!
wait_ready "$PORT" 60 "$FPID" || { echo "demo: freshet did not start:" >&2; tail "$DIR/freshet.log" >&2; exit 1; }
q() { psql -X -q -h 127.0.0.1 -p "$PORT" -U freshet -d freshet "$@"; }
q -v ON_ERROR_STOP=1 <<SQL || exit 1
CREATE SECRET sqlserver_password AS 'Fr3shet_pw';
CREATE CONNECTION sqlserver TO SQL SERVER (HOST '127.0.0.1', PORT $SS_PORT, DATABASE 'shop', USER 'freshet', PASSWORD SECRET sqlserver_password);
CREATE SOURCE sqlserver_sales FROM SQL SERVER CONNECTION sqlserver FOR TABLES (dbo.sales AS sales);
create view sales_anomalies as
  with recent_sales as (
    select * from sales where mz_now() <= sale_date + interval '7 days'
  ),
  rolling_avg as (
    select customer_id, avg(total_price) as customer_spend_avg from recent_sales group by customer_id
  )
  select a.customer_id, a.customer_spend_avg, s.product_id, s.quantity, s.sale_date, s.sale_id, s.total_price, s.unit_price
  from recent_sales s join rolling_avg a using(customer_id)
  where s.total_price > 1.5 * a.customer_spend_avg;
create index on sales_anomalies (customer_id);
SQL
cat <<EOF

Freshet is capturing dbo.sales from the emulated SQL Server (TDS on 127.0.0.1:$SS_PORT).
Connect while it runs:   psql -h 127.0.0.1 -p $PORT -U freshet freshet
  SELECT * FROM mz_source_statuses;
  SELECT * FROM sales_anomalies WHERE customer_id = 42;
  SUBSCRIBE TO sales_anomalies;
Change the emulated SQL Server yourself (its control port, see test/sqlserver_emulator/README.md):
  exec 3<>/dev/tcp/127.0.0.1/$SS_CTL_PORT; echo "DELETE FROM dbo.sales WHERE sale_id = 1" >&3; head -1 <&3

EOF
start=$(date +%s)
while kill -0 "$FPID" 2>/dev/null; do
  q -c "SELECT state, snapshot_rows_done AS snapshot_rows, rows_total, lag_ms, position FROM mz_source_statuses" \
    -c "SELECT count(*) AS anomalies, count(DISTINCT customer_id) AS customers, max(sale_date) AS latest_sale FROM sales_anomalies"
  if [[ -n "${DURATION:-}" ]] && (( $(date +%s) - start >= DURATION )); then break; fi
  sleep 2
done
