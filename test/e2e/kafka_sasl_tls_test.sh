#!/usr/bin/env bash
# SASL_SSL on src/kafka's listener: kcat with PLAIN and SCRAM-SHA-256 over TLS, a wrong
# password refused, plaintext refused; kafkajs with SCRAM over TLS and the registry behind
# Basic auth.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka/server.sh"
NAME=kafka_sasl_tls
command -v kcat >/dev/null || { e2e_fail $NAME "kcat not installed (apt-get install kcat)"; exit 1; }
CERTS=$(mktemp -d /tmp/freshet-kafka-tls.XXXXXX)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem" >/dev/null 2>&1 ||
  { e2e_fail $NAME "openssl req failed"; exit 1; }
start_kafka_server --sasl --tls-cert "$CERTS/cert.pem" --tls-key "$CERTS/key.pem" --user alice:s3cret ||
  { e2e_fail $NAME "server did not start"; rm -rf "$CERTS"; exit 1; }
fail() { e2e_fail $NAME "$1"; echo "--- server log:"; tail -n 20 "$KAFKA_LOG"; rm -rf "$CERTS"; exit 1; }
K=(kcat -b "$KAFKA_BROKER" -m 10 -X security.protocol=SASL_SSL -X ssl.ca.location="$CERTS/cert.pem")

out=$("${K[@]}" -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=s3cret -L 2>&1) ||
  fail "PLAIN -L failed: $out"
echo "$out" | grep -q '3 topics' || fail "PLAIN -L: $out"
out=$("${K[@]}" -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=alice -X sasl.password=s3cret \
  -C -t shop.public.orders -p 2 -o beginning -e -q -f '%o\n' 2>&1) || fail "SCRAM -C failed: $out"
[[ $(echo "$out" | wc -l) -eq 10 ]] || fail "SCRAM -C read: $out"
out=$("${K[@]}" -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=wrong -L 2>&1) &&
  fail "a wrong password was accepted: $out"
echo "$out" | grep -qi 'auth' || fail "expected an authentication error: $out"
out=$("${K[@]}" -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=mallory -X sasl.password=x -L 2>&1) &&
  fail "an unknown SCRAM user was accepted"
out=$(kcat -b "$KAFKA_BROKER" -m 5 -L 2>&1) && fail "plaintext without SASL was accepted: $out"

# The registry wants Basic auth.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REGISTRY_PORT/subjects")
[[ "$code" == 401 ]] || fail "registry without credentials answered $code"
subjects=$(curl -s -u alice:s3cret "http://127.0.0.1:$REGISTRY_PORT/subjects")
[[ "$subjects" == '["shop.public.customers-key","shop.public.customers-value","shop.public.orders-key","shop.public.orders-value"]' ]] ||
  fail "subjects: $subjects"
latest=$(curl -s -u alice:s3cret "http://127.0.0.1:$REGISTRY_PORT/subjects/shop.public.orders-value/versions/latest")
echo "$latest" | grep -q '"version":1,"id":' || fail "latest: $latest"
id=$(echo "$latest" | sed -E 's/.*"id":([0-9]+).*/\1/')
curl -s -u alice:s3cret "http://127.0.0.1:$REGISTRY_PORT/schemas/ids/$id" | grep -q 'order_id' || fail "schema by id $id"
code=$(curl -s -o /dev/null -w '%{http_code}' -u alice:s3cret "http://127.0.0.1:$REGISTRY_PORT/subjects/nope/versions/latest")
[[ "$code" == 404 ]] || fail "unknown subject answered $code"

JS="$E2E_LIB_DIR/kafka"
if [[ -d "$JS/node_modules/kafkajs" ]]; then
  (cd "$JS" && MODE=auth KAFKA_TLS_CA="$CERTS/cert.pem" KAFKA_SASL_MECHANISM=scram-sha-256 \
     KAFKA_SASL_USER=alice KAFKA_SASL_PASSWORD=s3cret timeout 120 node group.js) || fail "kafkajs over SASL_SSL failed"
fi

# Schema ids survive a restart (persisted through the backend: here a file).
stop_kafka_server
rm -rf "$CERTS"
KAFKA_KEEP=$(mktemp -d /tmp/freshet-kafka-ids.XXXXXX)
start_kafka_server --schemas-file "$KAFKA_KEEP/schemas" || fail "restart 1"
ids1=$(curl -s "http://127.0.0.1:$REGISTRY_PORT/subjects/shop.public.orders-value/versions/latest")
stop_kafka_server
start_kafka_server --schemas-file "$KAFKA_KEEP/schemas" || fail "restart 2"
ids2=$(curl -s "http://127.0.0.1:$REGISTRY_PORT/subjects/shop.public.orders-value/versions/latest")
stop_kafka_server
rm -rf "$KAFKA_KEEP"
[[ -n "$ids1" && "$ids1" == "$ids2" ]] || { e2e_fail $NAME "schema ids changed across a restart: $ids1 / $ids2"; exit 1; }
e2e_pass $NAME
