#!/usr/bin/env bash
# CREATE SOURCE ... FROM KAFKA against src/kafka's kafka_test_server (sample topics, schema
# registry): FORMAT AVRO + ENVELOPE UPSERT over 3 partitions with a tombstone, FORMAT BYTES
# with INCLUDE PARTITION, OFFSET and START OFFSET, FORMAT JSON (append-only), FORMAT TEXT +
# ENVELOPE UPSERT, a decoding error (JSON over Avro bytes: skipped, reported, the source keeps
# running), new messages from kcat, and a restart of Freshet that resumes from the stored
# offsets (no message read twice or lost).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
: "${KAFKA_TEST_SERVER:=$(dirname "$FRESHET_BIN")/src/kafka/kafka_test_server}"
source "$(dirname "$0")/kafka/server.sh"
NAME=kafka_source
command -v kcat >/dev/null || { e2e_fail $NAME "kcat not installed (apt-get install kcat)"; exit 1; }
start_kafka_server || { e2e_fail $NAME "kafka_test_server did not start"; exit 1; }
start_freshet || { e2e_fail $NAME "freshet did not start"; exit 1; }
trap 'stop_freshet; stop_kafka_server' EXIT
fail() { e2e_fail $NAME "$1"; exit 1; }
q() { psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# wait_for SQL EXPECTED: until the query answers EXPECTED (10 s).
wait_for() {
  local got i
  for i in $(seq 1 100); do
    got=$(q "$1")
    [[ "$got" == "$2" ]] && return 0
    sleep 0.1
  done
  fail "$1: expected '$2', got '$got'"
}

out=$(q "CREATE CONNECTION k TO KAFKA (BROKER '$KAFKA_BROKER')") || fail "$out"
out=$(q "CREATE CONNECTION csr TO CONFLUENT SCHEMA REGISTRY (URL 'http://127.0.0.1:$REGISTRY_PORT')") || fail "$out"

# Avro + UPSERT: 30 customers over 3 partitions, then a tombstone for id 7.
out=$(q "CREATE SOURCE customers FROM KAFKA CONNECTION k (TOPIC 'shop.public.customers') FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr ENVELOPE UPSERT") ||
  fail "Avro source: $out"
wait_for "select count(*) from customers" 29
wait_for "select count(*) from customers where id = 7" 0
cols=$(q "select column_name || ' ' || data_type from information_schema.columns where table_name = 'customers' order by ordinal_position" | tr '\n' ',')
[[ "$cols" == "id bigint,name text,balance numeric,created timestamp without time zone,active boolean,signup date,tag uuid,attrs jsonb," ]] ||
  fail "customers columns: $cols"
row=$(q "select id, name, balance, created, active, signup, tag, attrs from customers where id = 2")
[[ "$row" == "2|customer 2|20.25|2023-11-14 22:13:22|t|2023-10-29|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12|{\"tier\": 2}" ]] || fail "customer 2: $row"
row=$(q "select balance is null, signup is null from customers where id = 20")
[[ "$row" == "t|t" ]] || fail "customer 20 nulls: $row"

# BYTES with INCLUDE PARTITION, OFFSET from offset 5 of each of the 6 partitions: 60 - 30 rows.
out=$(q "CREATE SOURCE orders_raw FROM KAFKA CONNECTION k (TOPIC 'shop.public.orders', START OFFSET (5, 5, 5, 5, 5, 5)) FORMAT BYTES INCLUDE PARTITION, OFFSET") ||
  fail "BYTES source: $out"
wait_for "select count(*), min(\"offset\"), count(distinct partition) from orders_raw" "30|5|6"
wait_for "select count(*) from orders_raw where left(data::text, 10) = '\\x00000000'" 30   # the Confluent frame: magic byte 0, schema id

# JSON, append-only (keyed by partition and offset), and TEXT + UPSERT, over the JSON topic.
out=$(q "CREATE SOURCE events_json FROM KAFKA CONNECTION k (TOPIC 'shop.public.events') FORMAT JSON") || fail "JSON source: $out"
wait_for "select count(*) from events_json" 3
wait_for "select data->>'k' || '/' || (data->'payload'->>'i') from events_json where \"offset\" = 1" "e2/2"
out=$(q "CREATE SOURCE events_text FROM KAFKA CONNECTION k (TOPIC 'shop.public.events') FORMAT TEXT ENVELOPE UPSERT") || fail "TEXT source: $out"
wait_for "select key || ' ' || (text like '{%') from events_text order by key" '{"k":"e1"} true
{"k":"e2"} true
{"k":"e3"} true'

# A decoding error: JSON over Avro bytes. Every message is skipped and reported; it keeps running.
out=$(q "CREATE SOURCE bad FROM KAFKA CONNECTION k (TOPIC 'shop.public.customers') FORMAT JSON") || fail "bad source: $out"
for _ in $(seq 1 100); do
  st=$(q "select state || '|' || last_error from mz_source_statuses where name = 'bad'")
  [[ "$st" == *"skipped"* ]] && break
  sleep 0.1
done
[[ "$st" == "running|skipped the message at partition "*"invalid input syntax for type json"* ]] || fail "bad source status: $st"
[[ $(q "select count(*) from bad") == 0 ]] || fail "bad source has rows"
# Errors the user can fix are refused at CREATE.
out=$(q "CREATE SOURCE nope FROM KAFKA CONNECTION k (TOPIC 'no.such.topic') FORMAT JSON") && fail "an unknown topic was accepted"
[[ "$out" == *"does not exist"* ]] || fail "unknown topic: $out"
out=$(q "CREATE SOURCE nope FROM KAFKA CONNECTION k (TOPIC 'shop.public.events') FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr ENVELOPE UPSERT") &&
  fail "a topic without an Avro schema was accepted"
[[ "$out" == *"no schema for subject shop.public.events-value"* ]] || fail "no schema: $out"

# New messages.
echo 'e4:{"k":"e4","n":4,"payload":{"i":4}}' | kcat -b "$KAFKA_BROKER" -P -t shop.public.events -K: -p 0 || fail "kcat -P failed"
wait_for "select count(*) from events_json" 4
wait_for "select count(*) from events_text" 4

# Restart Freshet on its data dir: every source resumes from its stored offsets.
before=$(q "select name || '=' || position from mz_source_statuses where type = 'kafka' order by name" | tr '\n' ' ')
kill "$FRESHET_PID"
for _ in $(seq 1 200); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
wait "$FRESHET_PID" 2>/dev/null
"$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
  --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
FRESHET_PID=$!
wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "freshet did not come back"
wait_for "select count(*) from mz_source_statuses where type = 'kafka' and state = 'running'" 5
after=$(q "select name || '=' || position from mz_source_statuses where type = 'kafka' order by name" | tr '\n' ' ')
[[ "$before" == "$after" ]] || fail "positions changed across the restart: $before / $after"
echo "positions: $after"
wait_for "select count(*) from customers" 29
echo 'e5:{"k":"e5","n":5,"payload":null}' | kcat -b "$KAFKA_BROKER" -P -t shop.public.events -K: -p 0 || fail "kcat -P failed"
wait_for "select count(*), max(\"offset\") from events_json" "5|4"
wait_for "select count(*) from events_text" 5
# The bytes source read 30 messages before the restart and none again after it.
[[ $(q "select count(*) from orders_raw") == 30 ]] || fail "orders_raw after the restart"
freshet_alive || fail "freshet died"
e2e_pass $NAME
