#!/usr/bin/env bash
# kcat (librdkafka 2.0.2) against src/kafka's KafkaServer over an in-memory backend:
# metadata (-L), consuming Avro and JSON topics with tombstones (-C), producing JSON records
# and a tombstone (-P), a rejected malformed record, and a balanced consumer group (-G).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka/server.sh"
NAME=kafka_kcat
command -v kcat >/dev/null || { e2e_fail $NAME "kcat not installed (apt-get install kcat)"; exit 1; }
start_kafka_server || { e2e_fail $NAME "server did not start"; exit 1; }
fail() { e2e_fail $NAME "$1"; echo "--- server log:"; tail -n 20 "$KAFKA_LOG"; exit 1; }
K=(kcat -b "$KAFKA_BROKER" -X api.version.request=true -m 10)

# -L: brokers and topics with partition counts.
meta=$("${K[@]}" -L 2>&1) || fail "kcat -L failed: $meta"
echo "$meta" | grep -q "broker 0 at 127.0.0.1:$KAFKA_PORT" || fail "no broker 0 in: $meta"
echo "$meta" | grep -q 'topic "shop.public.orders" with 6 partitions' || fail "orders topic missing: $meta"
echo "$meta" | grep -q 'topic "shop.public.customers" with 3 partitions' || fail "customers topic missing: $meta"
echo "$meta" | grep -q '3 topics' || fail "expected 3 topics: $meta"
meta1=$("${K[@]}" -L -t shop.public.events 2>&1) || fail "kcat -L -t failed"
echo "$meta1" | grep -q 'topic "shop.public.events" with 1 partitions' || fail "-L -t: $meta1"

# -C on the JSON topic.
out=$("${K[@]}" -C -t shop.public.events -o beginning -e -q -f '%k|%s\n' 2>&1) || fail "kcat -C events: $out"
[[ $(echo "$out" | wc -l) -eq 3 ]] || fail "expected 3 events, got: $out"
echo "$out" | grep -qF '{"k":"e2"}|{"k":"e2","n":2,"payload":{"i": 2}}' || fail "event e2 wrong: $out"

# -C on the Avro topic: 30 rows + one tombstone (value length -1), Confluent frame magic 0.
out=$("${K[@]}" -C -t shop.public.customers -o beginning -e -q -f '%p %o %S\n' 2>&1) || fail "kcat -C customers: $out"
[[ $(echo "$out" | wc -l) -eq 31 ]] || fail "expected 31 customer records, got $(echo "$out" | wc -l)"
[[ $(echo "$out" | awk '$3 == -1' | wc -l) -eq 1 ]] || fail "expected one tombstone: $out"
first=$("${K[@]}" -C -t shop.public.customers -p 1 -o 0 -c 1 -e -q -f '%s' | head -c 5 | od -An -tx1 | tr -d ' \n')
[[ "$first" =~ ^00000000[0-9a-f]{2}$ ]] || fail "value does not start with the Confluent frame: $first"
# A start offset and an end at the high watermark, per partition.
out=$("${K[@]}" -C -t shop.public.orders -p 3 -o 5 -e -q -f '%o\n' 2>&1) || fail "kcat -C -o 5: $out"
[[ "$(echo $out)" == "5 6 7 8 9" ]] || fail "offsets 5..9 of partition 3 expected, got: $out"
out=$("${K[@]}" -C -t shop.public.orders -p 0 -o -2 -e -q -f '%o\n' 2>&1) || fail "kcat -C -o -2: $out"
[[ "$(echo $out)" == "8 9" ]] || fail "last two offsets expected, got: $out"

# -P: JSON records (key:value) and a tombstone (-Z: empty value is NULL).
printf 'e4:{"k":"e4","n":4,"payload":{"x":[1,2]}}\n"e5":{"k":"e5"}\ne1:\n' |
  "${K[@]}" -P -t shop.public.events -K: -Z 2>&1 || fail "kcat -P failed"
out=$("${K[@]}" -C -t shop.public.events -o beginning -e -q -f '%o %k|%s|%S\n' 2>&1)
[[ $(echo "$out" | wc -l) -eq 6 ]] || fail "expected 6 events after produce, got: $out"
echo "$out" | grep -qF '3 {"k":"e4"}|{"k":"e4","n":4,"payload":{"x": [1, 2]}}' || fail "produced e4 not read back: $out"
echo "$out" | grep -qF '4 {"k":"e5"}|{"k":"e5","n":null,"payload":null}' || fail "produced e5 not read back: $out"
echo "$out" | grep -qE '^5 \{"k":"e1"\}\|\|-1$' || fail "tombstone not read back: $out"

# A record that is not JSON for the key column is refused (INVALID_RECORD), nothing stored.
err=$(printf 'x:not json\n' | "${K[@]}" -P -t shop.public.events -K: 2>&1)
echo "$err" | grep -qi 'invalid\|record' || fail "expected a produce error, got: $err"
out=$("${K[@]}" -C -t shop.public.events -o beginning -e -q -f '%o\n' 2>&1)
[[ $(echo "$out" | wc -l) -eq 6 ]] || fail "the invalid record was stored: $out"

# -G: a balanced consumer group reads all 60 orders, then (committed) nothing more.
out=$(timeout 60 "${K[@]}" -G kcatgroup -o beginning -e -q -f '%p %o\n' -X auto.commit.interval.ms=100 shop.public.orders 2>&1)
[[ $(echo "$out" | grep -cE '^[0-9]+ [0-9]+$') -eq 60 ]] || fail "group consumer read $(echo "$out" | wc -l) records: $out"
# (no -o: kcat's -o overrides committed offsets in -G mode; without a commit this would
# start from the beginning again because of auto.offset.reset=earliest)
out=$(timeout 60 "${K[@]}" -G kcatgroup -X auto.offset.reset=earliest -e -q -f '%p %o\n' shop.public.orders 2>&1)
[[ $(echo "$out" | grep -cE '^[0-9]+ [0-9]+$') -eq 0 ]] || fail "group did not resume from committed offsets: $out"

kafka_server_alive || fail "server died"
stop_kafka_server
e2e_pass $NAME
