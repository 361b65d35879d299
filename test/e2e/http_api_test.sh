#!/usr/bin/env bash
# The HTTP listener with real clients: POST /api/sql (Materialize's JSON shape), SUBSCRIBE as
# server-sent events seeing a psql INSERT within 1 s, /metrics parsed by prometheus_client,
# /health, Basic auth (a wrong password refused), the schema registry on the same listener,
# Kafka ListGroups/DescribeGroups through kafka-python. The checks: http/http_api_checks.py.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=http_api
if [[ "$E2E_TARGET" == postgres ]]; then e2e_pass "$NAME (skipped: Freshet's HTTP API)"; exit 0; fi
export HTTP_USER=freshet HTTP_PASSWORD=h77p-secret PGPASSWORD=h77p-secret
FRESHET_EXTRA_ARGS="--user-password $HTTP_USER:$HTTP_PASSWORD" start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
timeout 180 /usr/bin/python3 "$E2E_LIB_DIR/http/http_api_checks.py"
rc=$?
freshet_alive || { echo "freshet exited"; rc=1; }
# Without passwords the listener stays on loopback unless asked otherwise.
out=$("$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/other" --pg-listen 127.0.0.1:0 --kafka-listen off \
        --http-listen 0.0.0.0:0 2>&1 </dev/null)
if [[ $? -ne 2 || "$out" != *"needs passwords"* ]]; then echo "a non-loopback --http-listen without passwords was not refused: $out"; rc=1; fi
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "HTTP API checks failed"; exit 1; fi
