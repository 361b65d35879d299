#!/usr/bin/env bash
# The Kafka API's acceptance test against the real `freshet serve` (not the in-memory test
# server): 3 partitions per topic; a table with a primary key (kv), one without (bag), a COUNTER
# load generator source (c) and a materialized view (mv), all served as topics. Clients:
#   kcat -L            every topic, 3 partitions each
#   kcat -C -e         ends at the end of every partition (EOF): sparse offsets, an idle topic
#                      while another table is written, a topic written every 50 ms
#   kcat -C            every topic from the beginning, following rows inserted while it runs;
#                      kcat 1.7.1 from Debian lacks Avro (-s avro), so its raw bytes are decoded by
#                      @kafkajs/confluent-schema-registry (kafka/freshet_check.js decode) and each
#                      topic replayed as upserts/tombstones must equal SELECT over psql
#   kcat -C -Z         deletes are tombstones (NULL)
#   kcat -P            Avro (the topic's registered schema ids; JSON is refused) into kv and bag,
#                      an upsert and a tombstone; read back over psql; a read-only topic refuses
#   kafkajs group      3 members split the 3 partitions, commit; Freshet is stopped (SIGTERM)
#                      and started again on the same data dir; the group resumes: no loss, no
#                      duplicate, per-key counts equal the topic's history
#   raw sockets        malformed, truncated, oversized frames: error 35 or a closed connection,
#                      and kcat -L right after still works
#   SASL_SSL           restart with --user-password, --kafka-sasl, --tls-cert/--tls-key: kcat
#                      PLAIN and SCRAM-SHA-256, wrong passwords refused (kcat and kafkajs),
#                      plaintext refused, the registry behind Basic auth
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka/freshet.sh"
NAME=kafka_freshet
JS="$E2E_LIB_DIR/kafka"
command -v kcat >/dev/null || { e2e_fail $NAME "kcat not installed (apt-get install kcat)"; exit 1; }
if [[ ! -d "$JS/node_modules/kafkajs" ]]; then
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    { e2e_fail $NAME "npm ci in test/e2e/kafka failed"; exit 1; }
fi
WORK=$(mktemp -d /tmp/freshet-kafka-e2e.XXXXXX)
DATA="$WORK/data"
cleanup() { kf_stop >/dev/null 2>&1; [[ -n "${E2E_KEEP_LOGS:-}" ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT
# Failures that do not stop the test (so that the checks after them still run); reported at the end.
BUGS=()
bug() { echo "BUG: $1" >&2; BUGS+=("$1"); }
fail() {
  ((${#BUGS[@]})) && printf 'also: %s\n' "${BUGS[@]}"
  echo "FAIL $NAME: $1"
  echo "--- last lines of the freshet log:"; tail -n 20 "$DATA.log" 2>/dev/null
  exit 1
}
node_check() { (cd "$JS" && node freshet_check.js "$@"); }
T=freshet.public
FMT='%p %o %K %S\n%k%s'   # raw bytes with their lengths, for freshet_check.js decode
K=(kcat -b 127.0.0.1:0 -m 15)   # the broker is set once Freshet runs
kc() { "${K[@]}" "$@"; }
# kcat -C -e ARGS: reads to the end of every partition (fails if that takes over 20 s).
kc_drain() { timeout 20 "${K[@]}" -C -e "$@"; }

# A kv row: (id, name, amount: NULL every 5th, a timestamp, a bool).
kv_row() {
  local i=$1 amount
  ((i % 5 == 0)) && amount=NULL || amount=$(printf '%d.%02d' $((i * 125 / 100)) $((i * 125 % 100)))
  printf "(%d, 'name %d', %s, '2024-01-02 03:%02d:%02d', %s)" "$i" "$i" "$amount" $((i / 60)) $((i % 60)) \
    "$( ((i % 2)) && echo false || echo true)"
}
kv_rows() {  # kv_rows FROM TO
  local i sep=""
  for ((i = $1; i <= $2; i++)); do printf '%s%s' "$sep" "$(kv_row "$i")"; sep=", "; done
}
# Every record of TOPIC from the beginning to the current end, decoded: JSON lines by offset.
read_topic() {
  local raw="$WORK/raw.$1"
  kc_drain -t "$1" -o beginning -q -f "$FMT" >"$raw" 2>"$WORK/kcat.err" || { cat "$WORK/kcat.err"; return 1; }
  node_check decode "$1" <"$raw" | jq -c -s 'sort_by(.o)[]'
}
# The topic replayed as upserts/tombstones, as psql -At rows, sorted; compared with a query.
expect_replay() {  # TOPIC SQL
  local got want
  kc_drain -t "$1" -o beginning -q -f "$FMT" >"$WORK/raw.replay" 2>"$WORK/kcat.err" || fail "kcat -C $1: $(cat "$WORK/kcat.err")"
  got=$(node_check decode "$1" replay <"$WORK/raw.replay" | LC_ALL=C sort) || fail "decoding $1: $got"
  want=$(kf_psql "$2" | LC_ALL=C sort) || fail "psql: $2"
  [[ "$got" == "$want" ]] || fail "$1 replayed != $2:
--- topic:
$got
--- query:
$want"
}

# ---- phase 1: plaintext, 3 partitions ------------------------------------------------------
kf_start "$DATA" --kafka-partitions 3 || fail "freshet did not start"
K=(kcat -b "$KAFKA_BROKER" -m 15)
kf_psql "CREATE TABLE kv (id int PRIMARY KEY, name text, amount numeric(10,2), at timestamp, flag bool)" || fail "create kv"
kf_psql "CREATE TABLE bag (x int, tag text)" || fail "create bag"
kf_psql "CREATE SOURCE c FROM LOAD GENERATOR COUNTER (TICK INTERVAL '50ms')" || fail "create source"
kf_psql "CREATE MATERIALIZED VIEW mv AS SELECT tag, count(*) AS n, sum(x) AS total FROM bag GROUP BY tag" || fail "create mv"
kf_psql "INSERT INTO kv VALUES $(kv_rows 1 30)" || fail "insert kv"
kf_psql "INSERT INTO bag VALUES (1, 'a'), (2, 'a'), (3, 'b'), (3, 'b'), (4, NULL)" || fail "insert bag"

# kcat -L: every topic with 3 partitions.
meta=$(kc -L 2>&1) || fail "kcat -L: $meta"
for t in kv bag c mv; do
  echo "$meta" | grep -q "topic \"$T.$t\" with 3 partitions" || fail "kcat -L lacks $T.$t with 3 partitions: $meta"
done
echo "$meta" | grep -q "broker 0 at 127.0.0.1:$KAFKA_PORT" || fail "kcat -L: no broker 0 at the Kafka port: $meta"

# kcat -C -e ends at the end of every partition (each reaches its high watermark). A topic's
# offsets are sparse (kv shares the tables collection with bag; 3 partitions split it).
timeout 10 "${K[@]}" -C -t $T.kv -o beginning -e -q -f '%p %o\n' >"$WORK/eof.out" 2>&1
rc=$?
((rc == 0)) || bug "kcat -C -e -t $T.kv did not stop at the end of the partitions in 10 s (rc $rc; read $(wc -l <"$WORK/eof.out") of 30 records): a partition whose last record is not the collection's last never reaches EOF (high watermark = the collection's next offset; Fetch returns no batch covering the gap)"

# ... also while another table (same collection) is written every 100 ms: kv itself is idle, so in
# Kafka every partition of kv reaches EOF at once.
kf_psql "CREATE TABLE noise (i int)" || fail "create noise"
( for i in $(seq 1 80); do psql -X -q -c "INSERT INTO noise VALUES ($i)" >/dev/null 2>&1; sleep 0.1; done ) &
noise_pid=$!
timeout 10 "${K[@]}" -C -t $T.kv -o beginning -e -q -f '%p %o\n' >"$WORK/eof.out" 2>&1
rc=$?
kill $noise_pid 2>/dev/null; wait $noise_pid 2>/dev/null
((rc == 0)) || bug "kcat -C -e -t $T.kv (idle) did not reach EOF in 10 s while table noise was written every 100 ms (rc $rc; read $(wc -l <"$WORK/eof.out") of 30 records): every commit to the tables collection moves the high watermark of every partition of every table's topic, so a Fetch at the high watermark never comes back with HW == fetch offset (librdkafka's EOF rule)"

# kcat -C from the beginning, following: 30 rows are there, 10 more are inserted while it runs.
timeout 60 "${K[@]}" -C -t $T.kv -o beginning -c 40 -q -f "$FMT" >"$WORK/follow.raw" 2>"$WORK/follow.err" &
kcat_pid=$!
sleep 1.5
for i in $(seq 31 40); do kf_psql "INSERT INTO kv VALUES $(kv_row "$i")" || fail "insert $i"; done
wait $kcat_pid || fail "kcat -C -c 40 did not get 40 records (rc $?): $(cat "$WORK/follow.err")"
follow=$(node_check decode $T.kv <"$WORK/follow.raw") || fail "decoding the followed kv records: $follow"
[[ $(echo "$follow" | wc -l) -eq 40 ]] || fail "followed $(echo "$follow" | wc -l) records: $follow"
[[ $(echo "$follow" | jq -r '.key.id' | sort -n | tr '\n' ' ') == "$(seq -s ' ' 1 40) " ]] || fail "followed keys are not 1..40 once each: $follow"
echo "$follow" | grep -qF '"key":{"id":"3"},"value":{"id":"3","name":"name 3","amount":"3.75","at":"2024-01-02 03:00:03","flag":"f"}' ||
  fail "row 3 decoded wrong: $(echo "$follow" | grep '"id":"3"')"
echo "$follow" | grep -qF '"key":{"id":"35"},"value":{"id":"35","name":"name 35","amount":null,"at":"2024-01-02 03:00:35","flag":"f"}' ||
  fail "row 35 (inserted while kcat ran, NULL amount) decoded wrong: $(echo "$follow" | grep '"id":"35"')"
[[ $(echo "$follow" | jq -r '.p' | sort -u | tr -d '\n') == 012 ]] || fail "kv records are not spread over partitions 0..2"
# Partition of a key is stable: the same key is always in the same partition.
[[ $(echo "$follow" | jq -r '"\(.key.id) \(.p)"' | sort -u | awk '{print $1}' | uniq -d | wc -l) -eq 0 ]] || fail "a key in two partitions"

# Updates and deletes: an upsert record and tombstones (kcat -Z prints NULL).
kf_psql "UPDATE kv SET name = 'renamed' WHERE id = 3" || fail "update"
kf_psql "DELETE FROM kv WHERE id = 7" || fail "delete kv"
kf_psql "DELETE FROM bag WHERE x = 2" || fail "delete bag"
tomb=$(kc_drain -t $T.kv -o beginning -q -Z -f '%o %S %s\n' 2>&1 | grep -a -c ' -1 NULL$')
[[ "$tomb" == 1 ]] || fail "kcat -Z: expected 1 NULL value in kv, got $tomb"
kvall=$(read_topic $T.kv) || fail "read kv: $kvall"
[[ $(echo "$kvall" | wc -l) -eq 42 ]] || fail "kv: 40 inserts + 1 update + 1 delete = 42 records, got $(echo "$kvall" | wc -l)"
echo "$kvall" | tail -n 2 | head -n 1 | grep -qF '"key":{"id":"3"},"value":{"id":"3","name":"renamed"' || fail "the update of 3 is not the 41st record: $kvall"
echo "$kvall" | tail -n 1 | grep -qF '"key":{"id":"7"},"value":null' || fail "the delete of 7 is not a tombstone: $(echo "$kvall" | tail -n 1)"
bagall=$(read_topic $T.bag) || fail "read bag: $bagall"
echo "$bagall" | grep -qF '"key":{"x":"2","tag":"a"},"value":null' || fail "the delete from bag is not a tombstone: $bagall"
echo "$bagall" | grep -qF '"key":{"x":"4","tag":null},"value":{"x":"4","tag":null}' || fail "bag row with a NULL: $bagall"

# Every topic, decoded by the registry client and replayed, equals the SQL contents.
expect_replay $T.kv "SELECT id, name, amount, at, flag FROM kv"
expect_replay $T.bag "SELECT DISTINCT x, tag FROM bag"
expect_replay $T.mv "SELECT tag, n, total FROM mv"
mvall=$(read_topic $T.mv) || fail "read mv: $mvall"
echo "$mvall" | grep -qF '"key":{"tag":"a","n":"2","total":"3"},"value":null' || fail "mv: the retracted row a/2/3 is not a tombstone: $mvall"
# The counter topic is written every 50 ms into all 3 partitions, so "the end" keeps moving
# (kcat -e may never see all partitions at their end at once, against Kafka too): read from the
# beginning exactly as many records as the source had at one moment, while it keeps writing.
cnow=$(kf_psql "SELECT count(*) FROM c") || fail "count c"
timeout 10 "${K[@]}" -C -t $T.c -o beginning -c "$cnow" -q -f '%o\n' >"$WORK/eof.c" 2>&1
rc=$?
((rc == 0 && $(wc -l <"$WORK/eof.c") == cnow)) || bug "kcat -C -c $cnow -t $T.c (a COUNTER source ticking every 50 ms, 3 partitions) did not read $cnow records in 10 s (rc $rc, $(wc -l <"$WORK/eof.c") read)"
n=$(kf_psql "SELECT count(*) FROM c")
((n >= 5)) || fail "counter table has $n rows"
timeout 20 "${K[@]}" -C -t $T.c -o beginning -c "$n" -q -f "$FMT" >"$WORK/raw.c" 2>"$WORK/kcat.err" || fail "kcat -C -c $n -t $T.c: $(cat "$WORK/kcat.err")"
cnt=$(node_check decode $T.c <"$WORK/raw.c") || fail "decode c: $cnt"
# The generator ticks while kcat reads, and each partition ends (-e) at its own moment: below
# m, the smallest of the partitions' last values, every value must be there, once.
[[ $(echo "$cnt" | jq -r '.value.counter' | sort -n | uniq -d | wc -l) -eq 0 ]] || fail "a counter value twice"
m=$(echo "$cnt" | jq -s 'group_by(.p) | map(map(.value.counter | tonumber) | max) | min')
[[ $(echo "$cnt" | jq -r '.value.counter | tonumber' | awk -v m="$m" '$1 <= m' | sort -n | tr '\n' ' ') == "$(seq -s ' ' 1 "$m") " ]] ||
  fail "counter topic lacks values of 1..$m: $(echo "$cnt" | jq -r '.value.counter' | sort -n | tr '\n' ' ')"
max=$(echo "$cnt" | jq -s 'map(.value.counter | tonumber) | max')
(($(kf_psql "SELECT count(*) FROM c") >= max)) || fail "the counter topic is ahead of the table"
echo "$cnt" | jq -e 'select(.key.counter != .value.counter)' >/dev/null && fail "counter key != value"

# kcat -P: JSON is refused (Avro topics take Avro only), Avro with the registry's ids is stored.
err=$(printf '{"id":200}\t{"id":200,"name":"json"}\n' | kc -P -t $T.kv -K '\t' 2>&1)
echo "$err" | grep -qi 'validate record\|invalid record\|INVALID_RECORD' || fail "JSON produce into an Avro topic: expected INVALID_RECORD, got: $err"
[[ $(kf_psql "SELECT count(*) FROM kv WHERE id = 200") == 0 ]] || fail "the refused JSON record was stored"
KD='#KEY#' MD='#END#'
printf '%s\n' '{"key":{"id":100},"value":{"id":100,"name":"kcat 100","amount":"-12.5","at":"2024-05-06 07:08:09.25","flag":true}}' \
  '{"key":{"id":101},"value":{"id":101,"name":"kcat 101","amount":null,"at":null,"flag":null}}' \
  '{"key":{"id":1},"value":{"id":1,"name":"upserted by kcat","amount":"1.00","at":"2024-01-02 03:00:01","flag":false}}' \
  '{"key":{"id":2},"value":null}' | node_check encode $T.kv "$KD" "$MD" >"$WORK/produce.bin" || fail "encoding Avro for kcat -P"
err=$(kc -P -t $T.kv -K "$KD" -D "$MD" -Z <"$WORK/produce.bin" 2>&1) || fail "kcat -P Avro into kv: $err"
[[ -z "$err" ]] || fail "kcat -P Avro into kv reported: $err"
got=$(kf_psql "SELECT id, name, amount, at, flag FROM kv WHERE id IN (1, 2, 100, 101) ORDER BY id")
want="1|upserted by kcat|1.00|2024-01-02 03:00:01|f
100|kcat 100|-12.50|2024-05-06 07:08:09.25|t
101|kcat 101|||"
[[ "$got" == "$want" ]] || fail "rows produced by kcat -P: got
$got
want
$want"
printf '%s\n' '{"key":{"x":9,"tag":"z"},"value":{"x":9,"tag":"z"}}' | node_check encode $T.bag "$KD" "$MD" >"$WORK/produce.bin" || fail "encode bag"
err=$(kc -P -t $T.bag -K "$KD" -D "$MD" <"$WORK/produce.bin" 2>&1) || fail "kcat -P into bag: $err"
[[ $(kf_psql "SELECT x, tag FROM bag WHERE x = 9") == "9|z" ]] || fail "kcat -P into bag not stored"
printf '%s\n' '{"key":{"tag":"q","n":1,"total":1},"value":{"tag":"q","n":1,"total":1}}' | node_check encode $T.mv "$KD" "$MD" >"$WORK/produce.bin" || fail "encode mv"
err=$(kc -P -t $T.mv -K "$KD" -D "$MD" <"$WORK/produce.bin" 2>&1)
echo "$err" | grep -qi 'policy' || fail "produce into a materialized view: expected POLICY_VIOLATION, got: $err"
expect_replay $T.kv "SELECT id, name, amount, at, flag FROM kv"
expect_replay $T.bag "SELECT DISTINCT x, tag FROM bag"
expect_replay $T.mv "SELECT tag, n, total FROM mv"

# ---- kafkajs group of 3 across a restart ---------------------------------------------------
n1=$(read_topic $T.kv | wc -l)
(cd "$JS" && timeout 90 node freshet_group.js consume $T.kv g1 3 "$n1" "$WORK/g1.a") || fail "kafkajs group, first run"
kf_psql "INSERT INTO kv VALUES $(kv_rows 41 60)" || fail "insert 41..60"
kf_psql "UPDATE kv SET flag = NOT flag WHERE id < 7" || fail "update flags"
kf_psql "DELETE FROM kv WHERE id IN (41, 50, 100)" || fail "delete"
kf_stop || fail "freshet did not exit cleanly on SIGTERM (status $?)"
kf_start "$DATA" --kafka-partitions 3 || fail "freshet did not restart on the same data dir"
read_topic $T.kv >"$WORK/kv.full" || fail "read kv after the restart"
n2=$(($(wc -l <"$WORK/kv.full") - n1))
((n2 == 20 + 5 + 3)) || fail "kv grew by $n2 records across the restart, want 28"
(cd "$JS" && timeout 90 node freshet_group.js consume $T.kv g1 3 "$n2" "$WORK/g1.b") || fail "kafkajs group, after the restart"
(cd "$JS" && node freshet_group.js check "$WORK/kv.full" "$WORK/g1.a" "$WORK/g1.b") || fail "group union != topic history"
expect_replay $T.kv "SELECT id, name, amount, at, flag FROM kv"
expect_replay $T.mv "SELECT tag, n, total FROM mv"

# ---- bad input on raw sockets ------------------------------------------------------------------
node_check bad || fail "bad frames"
kf_alive || fail "freshet died on bad frames"
meta=$(kc -L 2>&1) || fail "kcat -L after bad frames: $meta"
echo "$meta" | grep -q "topic \"$T.kv\" with 3 partitions" || fail "kcat -L after bad frames: $meta"

# ---- phase 2: SASL_SSL on the same data dir ---------------------------------------------------
kf_stop || fail "freshet did not exit cleanly on SIGTERM"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl req"
export PGUSER=alice PGPASSWORD=s3cret
kf_start "$DATA" --kafka-partitions 3 --user-password alice:s3cret --kafka-sasl \
  --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" || fail "freshet with SASL_SSL did not start"
S=(kcat -b "$KAFKA_BROKER" -m 15 -X security.protocol=SASL_SSL -X ssl.ca.location="$WORK/cert.pem")
nkv=$(wc -l <"$WORK/kv.full")
out=$("${S[@]}" -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=s3cret -L 2>&1) || fail "SASL_SSL PLAIN -L: $out"
for t in kv bag c mv; do echo "$out" | grep -q "topic \"$T.$t\" with 3 partitions" || fail "SASL_SSL -L lacks $t: $out"; done
out=$(timeout 20 "${S[@]}" -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=alice -X sasl.password=s3cret \
  -C -t $T.kv -o beginning -e -q -f '%o\n' 2>&1) || fail "SASL_SSL SCRAM -C: $out"
[[ $(echo "$out" | wc -l) -eq $nkv ]] || fail "SASL_SSL SCRAM -C read $(echo "$out" | wc -l) kv records, want $nkv"
out=$("${S[@]}" -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=wrong -L 2>&1) && fail "a wrong PLAIN password was accepted: $out"
echo "$out" | grep -qi 'auth' || fail "wrong password: expected an authentication error, got: $out"
out=$("${S[@]}" -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=alice -X sasl.password=wrong -L 2>&1) && fail "a wrong SCRAM password was accepted"
out=$(kcat -b "$KAFKA_BROKER" -m 5 -L 2>&1) && fail "plaintext without SASL/TLS was accepted: $out"
out=$("${S[@]}" -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=s3cret -L 2>&1) || fail "kcat -L right after the refused clients: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REGISTRY_PORT/subjects")
[[ "$code" == 401 ]] || fail "registry without credentials answered $code"
subjects=$(curl -s -u alice:s3cret "http://127.0.0.1:$REGISTRY_PORT/subjects")
for t in kv bag c mv; do for s in key value; do
  echo "$subjects" | grep -qF "\"$T.$t-$s\"" || fail "registry subjects lack $T.$t-$s: $subjects"
done; done
(cd "$JS" && KAFKA_TLS_CA="$WORK/cert.pem" KAFKA_SASL_MECHANISM=scram-sha-256 KAFKA_SASL_USER=alice \
  KAFKA_SASL_PASSWORD=s3cret EXPECT_KV_RECORDS=$nkv timeout 60 node freshet_check.js auth) || fail "kafkajs over SASL_SSL"
kf_alive || fail "freshet died"
kf_stop || fail "freshet did not exit cleanly on SIGTERM"
if ((${#BUGS[@]})); then
  echo "FAIL $NAME: ${#BUGS[@]} failed check(s):"; printf '  %s\n' "${BUGS[@]}"
  exit 1
fi
e2e_pass $NAME
