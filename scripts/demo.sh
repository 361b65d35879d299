#!/usr/bin/env bash
# `make demo`: runs `freshet demo`: the SALES load generator captured into table `sales`, the
# seed tutorial's `sales_anomalies` view indexed and shown live; the web console's URL, the
# psql command and the addresses in use printed. Ctrl-C stops it. PORT=... picks another
# PostgreSQL port, KAFKA_PORT=... and HTTP_PORT=... the Kafka API's and the HTTP listener's
# (console, SQL API, schema registry; when the defaults 9092 and 6876 are taken, free ports are
# used and printed); DURATION=30s stops by itself; data lives in build/demo-data.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${FRESHET_BIN:-$ROOT/build/release/freshet}"
PORT="${PORT:-6875}"
DATA="${DATA_DIR:-$ROOT/build/demo-data}"
[[ -x "$BIN" ]] || { echo "demo: $BIN is not built; run make" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "demo: port $PORT is in use (another freshet?). Try: make demo PORT=6877" >&2; exit 1
fi
args=(demo --data-dir "$DATA" --pg-listen "127.0.0.1:$PORT")
[[ -n "${KAFKA_PORT:-}" ]] && args+=(--kafka-listen "127.0.0.1:$KAFKA_PORT")
[[ -n "${HTTP_PORT:-}" ]] && args+=(--http-listen "127.0.0.1:$HTTP_PORT")
[[ -n "${DURATION:-}" ]] && args+=(--duration "$DURATION")
exec "$BIN" "${args[@]}"
