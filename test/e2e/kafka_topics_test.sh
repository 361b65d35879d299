#!/usr/bin/env bash
# Freshet as a plain Kafka broker for topics clients create (raw topics), and the schema
# registry's POST routes, against the real `freshet serve` (--kafka-partitions 3):
#   kcat -P            into a topic that does not exist: auto-created (Metadata
#                      allow_auto_topic_creation) with 3 partitions; keys, a null key, a
#                      tombstone (-Z, empty value) and explicit partitions (-p)
#   kcat -C -e         reads them back byte for byte with partition, offset, key (-f), dense
#                      offsets from 0 per partition, reaching the end (EOF)
#   librdkafka         rd_kafka_CreateTopics (a tiny C program): created, then
#                      TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, INVALID_PARTITIONS
#   kafkajs            admin.createTopics + producer + consumer round trip (headers too)
#   curl               POST /subjects/{s}/versions (new, same again, new version, 409 on a
#                      Freshet topic's subject), POST /subjects/{s} lookup, invalid schema 422
#   restart            records, offsets and schema ids unchanged after SIGTERM + start
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka/freshet.sh"
NAME=kafka_topics
JS="$E2E_LIB_DIR/kafka"
command -v kcat >/dev/null || { e2e_fail $NAME "kcat not installed (apt-get install kcat)"; exit 1; }
if [[ ! -d "$JS/node_modules/kafkajs" ]]; then
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    { e2e_fail $NAME "npm ci in test/e2e/kafka failed"; exit 1; }
fi
WORK=$(mktemp -d /tmp/freshet-kafka-topics.XXXXXX)
DATA="$WORK/data"
cleanup() { kf_stop >/dev/null 2>&1; [[ -n "${E2E_KEEP_LOGS:-}" ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT
fail() {
  echo "FAIL $NAME: $1"
  echo "--- last lines of the freshet log:"; tail -n 20 "$DATA.log" 2>/dev/null
  exit 1
}
kc() { kcat -b "$KAFKA_BROKER" -m 15 "$@"; }
# Every record of a topic, "partition offset key=value" (NULL for null), sorted.
FMT='%p %o %k=%s|%h\n'
dump() { timeout 20 kcat -b "$KAFKA_BROKER" -C -e -q -Z -o beginning -t "$1" -f "$FMT" 2>"$WORK/kcat.err" | LC_ALL=C sort; }
REG() { curl -sS -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: application/vnd.schemaregistry.v1+json' "$@"; }

kf_start "$DATA" --kafka-partitions 3 || fail "freshet did not start"
kf_psql "CREATE TABLE kv (id int PRIMARY KEY, s text)" >/dev/null || fail "CREATE TABLE"

# ---- kcat -P into a new topic (auto-created) ---------------------------------------------
printf 'k1\tv1\nk2\tvalue two\n' | kc -P -t rawt -K $'\t' -p 0 || fail "kcat -P p0"
printf 'k3\t\n' | kc -P -t rawt -K $'\t' -Z -p 1 || fail "kcat -P tombstone"
printf 'keyless\n' | kc -P -t rawt -p 2 || fail "kcat -P null key"
printf 'k4\tbin\x01\x02\n' | kc -P -t rawt -K $'\t' -p 0 -H 'h1=x' || fail "kcat -P header"
kc -L -t rawt | grep -q 'topic "rawt" with 3 partitions' || fail "rawt not auto-created with 3 partitions: $(kc -L -t rawt)"
EXPECT=$(printf '%s\n' '0 0 k1=v1|' '0 1 k2=value two|' $'0 2 k4=bin\x01\x02|h1=x' '1 0 k3=NULL|' '2 0 NULL=keyless|' | LC_ALL=C sort)
GOT=$(dump rawt)
[[ "$GOT" == "$EXPECT" ]] || fail "kcat -C rawt:
$(printf '%s' "$GOT" | od -c | head -20)
--- expected:
$(printf '%s' "$EXPECT" | od -c | head -20)
$(cat "$WORK/kcat.err")"
e2e_pass kcat_autocreate_produce_consume
# Offsets by time and the ends: ListOffsets (kcat -Q), high watermarks (-C -e above reached EOF).
kc -Q -t rawt:0:-1 | grep -q 'offset 3' || fail "ListOffsets latest p0: $(kc -Q -t rawt:0:-1)"

# ---- librdkafka's rd_kafka_CreateTopics -----------------------------------------------------
if [[ -f /usr/include/librdkafka/rdkafka.h ]] && command -v cc >/dev/null; then
  cat >"$WORK/create.c" <<'EOF'
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
/* create BROKER TOPIC PARTITIONS RF: prints the topic's error code name */
int main(int argc, char** argv) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(argv[2], atoi(argv[3]), atoi(argv[4]), err, sizeof err);
  if (!nt) { printf("local: %s\n", err); return 0; }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 15000);
  if (!ev) { printf("timeout\n"); return 1; }
  if (rd_kafka_event_error(ev)) { printf("request: %s\n", rd_kafka_event_error_string(ev)); return 1; }
  size_t n;
  const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  printf("%s\n", n == 1 ? rd_kafka_err2name(rd_kafka_topic_result_error(res[0])) : "no result");
  return 0;
}
EOF
  cc -o "$WORK/create" "$WORK/create.c" -lrdkafka 2>"$WORK/cc.err" || fail "compiling the librdkafka program: $(cat "$WORK/cc.err")"
  for c in "lrd 2 1 NO_ERROR" "lrd 2 1 TOPIC_ALREADY_EXISTS" "lrd2 2 3 INVALID_REPLICATION_FACTOR" \
           "lrd3 0 1 INVALID_PARTITIONS" "freshet.public.kv 1 1 TOPIC_ALREADY_EXISTS" "bad!name 1 1 TOPIC_EXCEPTION"; do
    read -r t p rf want <<<"$c"
    got=$(timeout 30 "$WORK/create" "$KAFKA_BROKER" "$t" "$p" "$rf" 2>&1)
    [[ "$got" == "$want" ]] || fail "rd_kafka_CreateTopics $t $p $rf: got '$got', want $want"
  done
  kc -L -t lrd | grep -q 'topic "lrd" with 2 partitions' || fail "lrd: $(kc -L -t lrd)"
  e2e_pass librdkafka_create_topics
fi

# ---- kafkajs: createTopics, produce, consume ------------------------------------------------
cat >"$JS/.topics_rt.js" <<'EOF'
const { Kafka, logLevel } = require('kafkajs')
const kafka = new Kafka({ clientId: 'topics', brokers: [process.env.KAFKA_BROKER], logLevel: logLevel.NOTHING })
;(async () => {
  const admin = kafka.admin()
  await admin.connect()
  const created = await admin.createTopics({ topics: [{ topic: 'jsraw', numPartitions: 2 }], waitForLeaders: true })
  const again = await admin.createTopics({ topics: [{ topic: 'jsraw', numPartitions: 2 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const sent = []
  for (let i = 0; i < 10; i++) sent.push({ key: `k${i}`, value: i === 7 ? null : `v${i}`, partition: i % 2, headers: { n: `${i}` } })
  await producer.send({ topic: 'jsraw', messages: sent })
  await producer.disconnect()
  const consumer = kafka.consumer({ groupId: 'topics-test' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'jsraw', fromBeginning: true })
  const got = []
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout, got ${got.length}`)), 30000)
    consumer.run({ eachMessage: async ({ partition, message }) => {
      got.push(`${partition} ${message.offset} ${message.key} ${message.value === null ? 'NULL' : message.value} ${message.headers.n}`)
      if (got.length === 10) { clearTimeout(timer); resolve() }
    } })
  })
  await consumer.disconnect()
  console.log(JSON.stringify({ created, again, got: got.sort() }))
})().catch((e) => { console.error(e.message); process.exit(1) })
EOF
OUT=$(cd "$JS" && timeout 90 node .topics_rt.js 2>&1); rc=$?
rm -f "$JS/.topics_rt.js"
((rc == 0)) || fail "kafkajs round trip: $OUT"
WANT='{"created":true,"again":false,"got":["0 0 k0 v0 0","0 1 k2 v2 2","0 2 k4 v4 4","0 3 k6 v6 6","0 4 k8 v8 8","1 0 k1 v1 1","1 1 k3 v3 3","1 2 k5 v5 5","1 3 k7 NULL 7","1 4 k9 v9 9"]}'
[[ "$OUT" == "$WANT" ]] || fail "kafkajs round trip:
got  $OUT
want $WANT"
e2e_pass kafkajs_create_produce_consume

# ---- schema registry POST -------------------------------------------------------------------
R="http://127.0.0.1:$REGISTRY_PORT"
S1='{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"}'
S1_SPACED='{"schema": "{ \"type\": \"record\",\n \"name\": \"Order\", \"fields\": [ {\"name\": \"id\", \"type\": \"long\"} ] }", "schemaType": "AVRO"}'
S2='{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"n\",\"type\":[\"null\",\"string\"],\"default\":null}]}"}'
[[ $(REG -X POST -d "$S1" "$R/subjects/orders-value/versions") == 200 ]] || fail "POST S1: $(cat "$WORK/body")"
ID1=$(jq -r .id "$WORK/body")
[[ "$ID1" =~ ^[0-9]+$ ]] || fail "POST S1 answered $(cat "$WORK/body")"
[[ $(REG -X POST -d "$S1_SPACED" "$R/subjects/orders-value/versions") == 200 && $(jq -r .id "$WORK/body") == "$ID1" ]] ||
  fail "same schema again: $(cat "$WORK/body")"
[[ $(REG -X POST -H 'Content-Type: application/json' -d "$S1" "$R/subjects/other-value/versions") == 200 &&
   $(jq -r .id "$WORK/body") == "$ID1" ]] || fail "same schema, other subject: $(cat "$WORK/body")"
[[ $(REG -X POST -d "$S2" "$R/subjects/orders-value/versions") == 200 ]] || fail "POST S2: $(cat "$WORK/body")"
ID2=$(jq -r .id "$WORK/body")
[[ "$ID2" != "$ID1" ]] || fail "a new schema got the old id"
[[ $(REG "$R/subjects/orders-value/versions") == 200 && $(cat "$WORK/body") == "[1,2]" ]] || fail "versions: $(cat "$WORK/body")"
[[ $(REG -X POST -d "$S1" "$R/subjects/orders-value") == 200 && $(jq -r '.version,.id' "$WORK/body" | tr '\n' ' ') == "1 $ID1 " ]] ||
  fail "lookup: $(cat "$WORK/body")"
[[ $(REG -X POST -d "$S1" "$R/subjects/nope-value") == 404 && $(jq -r .error_code "$WORK/body") == 40401 ]] || fail "lookup unknown subject: $(cat "$WORK/body")"
[[ $(REG -X POST -d "$S1" "$R/subjects/freshet.public.kv-value/versions") == 409 ]] || fail "409 expected: $(cat "$WORK/body")"
[[ $(REG -X POST -d '{"schema":"{\"type\":\"recrd\"}"}' "$R/subjects/x/versions") == 422 &&
   $(jq -r .error_code "$WORK/body") == 42201 ]] || fail "invalid schema: $(cat "$WORK/body")"
[[ $(REG -X POST -d 'nope' "$R/subjects/x/versions") == 422 ]] || fail "invalid JSON: $(cat "$WORK/body")"
e2e_pass registry_post

# ---- restart: the same records, offsets and ids ---------------------------------------------
BEFORE_JS=$(dump jsraw)
kf_stop || fail "freshet exited with an error on SIGTERM"
kf_start "$DATA" --kafka-partitions 3 || fail "freshet did not restart"
GOT=$(dump rawt)
[[ "$GOT" == "$EXPECT" ]] || fail "rawt after restart:
$GOT"
[[ "$(dump jsraw)" == "$BEFORE_JS" ]] || fail "jsraw after restart differs"
printf 'k5\tafter\n' | kc -P -t rawt -K $'\t' -p 0 || fail "kcat -P after restart"
dump rawt | grep -q '^0 3 k5=after|' || fail "the next offset after restart is not 3: $(dump rawt)"
[[ $(REG -X POST -d "$S1" "$R/subjects/orders-value/versions") == 200 && $(jq -r .id "$WORK/body") == "$ID1" ]] ||
  fail "S1 id after restart: $(cat "$WORK/body")"
[[ $(REG "$R/schemas/ids/$ID2") == 200 ]] || fail "S2 by id after restart: $(cat "$WORK/body")"
e2e_pass restart_keeps_raw_topics_and_ids
echo "PASS $NAME"
