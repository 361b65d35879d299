#!/usr/bin/env bash
# Starts freshet on 127.0.0.1:6875 (override with PORT=...), creates a small demo table through
# psql and waits until Ctrl-C. Data lives in build/demo-data (kept between runs; `rm -rf` it to
# start over).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${FRESHET_BIN:-$ROOT/build/release/freshet}"
PORT="${PORT:-6875}"
DATA="${DATA_DIR:-$ROOT/build/demo-data}"
[[ -x "$BIN" ]] || { echo "demo: $BIN is not built; run make" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "demo: port $PORT is in use (another freshet?). Try: make demo PORT=6877" >&2; exit 1
fi
mkdir -p "$DATA"
"$BIN" serve --data-dir "$DATA" --pg-listen "127.0.0.1:$PORT" &
PID=$!
trap 'echo; echo "demo: stopping freshet"; kill $PID 2>/dev/null; wait $PID 2>/dev/null; exit 0' INT TERM
for _ in $(seq 1 300); do
  psql -X -q -h 127.0.0.1 -p "$PORT" -U freshet freshet -c 'SELECT 1' >/dev/null 2>&1 && break
  kill -0 $PID 2>/dev/null || { echo "demo: freshet exited" >&2; exit 1; }
  sleep 0.1
done
psql -X -q -h 127.0.0.1 -p "$PORT" -U freshet freshet -v ON_ERROR_STOP=0 <<'SQL'
CREATE TABLE IF NOT EXISTS demo_sales (id int PRIMARY KEY, region text, product text, amount numeric(10,2), sold_at date);
DELETE FROM demo_sales;
INSERT INTO demo_sales VALUES
  (1, 'north', 'kayak',  899.00, DATE '2024-05-01'),
  (2, 'north', 'paddle',  49.90, DATE '2024-05-01'),
  (3, 'south', 'kayak',  949.00, DATE '2024-05-02'),
  (4, 'east',  'tent',   320.00, DATE '2024-05-03'),
  (5, 'south', 'paddle',  52.50, DATE '2024-05-04'),
  (6, 'west',  'tent',   299.99, DATE '2024-05-05');
SELECT region, count(*) AS sales, sum(amount) AS revenue FROM demo_sales GROUP BY region ORDER BY region;
SQL
cat <<EOF

Freshet is running (pid $PID, data in $DATA).
Connect with:

    psql -h 127.0.0.1 -p $PORT -U freshet freshet

and try:  SELECT product, sum(amount) FROM demo_sales GROUP BY product ORDER BY 2 DESC;
Press Ctrl-C to stop.
EOF
wait $PID
