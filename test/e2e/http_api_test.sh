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

# HTTPS with --http-tls (the --tls-cert/--tls-key of the Kafka listener).
CERTS=$(mktemp -d /tmp/freshet-http-tls.XXXXXX)
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
     -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem" >/dev/null 2>&1; then
  echo "openssl req failed"; rc=1
elif ! FRESHET_EXTRA_ARGS="--user-password $HTTP_USER:$HTTP_PASSWORD --http-tls --tls-cert $CERTS/cert.pem --tls-key $CERTS/key.pem" start_freshet; then
  echo "freshet with --http-tls did not start"; rc=1
else
  H="https://127.0.0.1:$FRESHET_HTTP_PORT"
  [[ "$(curl -s --cacert "$CERTS/cert.pem" "$H/health")" == "ok" ]] || { echo "https /health"; rc=1; }
  out=$(curl -s --cacert "$CERTS/cert.pem" -u "$HTTP_USER:$HTTP_PASSWORD" -H 'Content-Type: application/json' \
          -d '{"query": "SELECT 40 + 2 AS answer"}' "$H/api/sql")
  [[ "$out" == *'"rows":[[42]]'* ]] || { echo "https /api/sql: $out"; rc=1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CERTS/cert.pem" -u "$HTTP_USER:nope" "$H/metrics")
  [[ "$code" == 401 ]] || { echo "https /metrics with a wrong password: $code"; rc=1; }
  events=$(curl -s -N --max-time 2 --cacert "$CERTS/cert.pem" -u "$HTTP_USER:$HTTP_PASSWORD" \
             "$H/api/subscribe?query=SELECT%201%20AS%20x")
  [[ "$events" == *"event: desc"* && "$events" == *'"rows":[['*',1,1]]'* ]] || { echo "https subscribe: $events"; rc=1; }
  # Plain HTTP to the HTTPS port gets no answer (the TLS handshake fails), and the server stays up.
  if curl -s --max-time 5 "http://127.0.0.1:$FRESHET_HTTP_PORT/health" >/dev/null 2>&1; then echo "plain HTTP answered on the HTTPS port"; rc=1; fi
  [[ "$(curl -s --cacert "$CERTS/cert.pem" "$H/health")" == "ok" ]] || { echo "https /health after a plain request"; rc=1; }
  freshet_alive || { echo "freshet with --http-tls exited"; rc=1; }
  stop_freshet
fi
rm -rf "$CERTS"
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "HTTP API checks failed"; exit 1; fi
