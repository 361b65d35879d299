#!/usr/bin/env bash
# CREATE SINK ... INTO KAFKA against a real broker: Freshet's own Kafka API (the sink's
# librdkafka producer creates its topics there, registers its Avro schemas in Freshet's
# registry), read back by real clients:
#   * a materialized view (AVRO, UPSERT, KEY) is decoded by @kafkajs/confluent-schema-registry
#     and replayed as upserts/tombstones: it equals the view, after random writes;
#   * a table (AVRO, DEBEZIUM) is read back by Freshet's own Kafka source (ENVELOPE DEBEZIUM)
#     and equals the table;
#   * a plain view (JSON, DEBEZIUM) read with kcat: per key, every message's "before" is the
#     previous message's "after" (nothing lost, nothing twice), and the last "after" of every
#     key is the view's row;
#   * all of it again after kill -9 of Freshet in the middle of a write load (exactly once
#     across the crash), and after a clean restart;
#   * bad input: unknown relation, KEY column, options, an unreachable broker, a dependent
#     DROP, and DROP SINK.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=kafka_sink
JS="$(cd "$(dirname "$0")/kafka" && pwd)"
command -v kcat >/dev/null || { e2e_fail $NAME "kcat not installed (apt-get install kcat)"; exit 1; }
[[ -d "$JS/node_modules" ]] || (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
  { e2e_fail $NAME "npm ci in test/e2e/kafka failed"; exit 1; }
start_freshet || { e2e_fail $NAME "freshet did not start"; exit 1; }
WORK=$(mktemp -d /tmp/freshet-sink.XXXXXX)
trap 'stop_freshet; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL $NAME: $1"
  echo "--- last lines of the freshet log:"; tail -n 20 "$FRESHET_LOG" 2>/dev/null
  exit 1
}
q() { psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# expect_error SQL SQLSTATE: the statement fails with that SQLSTATE.
expect_error() {
  local out
  out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$1" 2>&1) && fail "expected $2 from: $1"
  [[ "$out" == *"ERROR:  $2"* ]] || fail "expected SQLSTATE $2 from: $1; got: $out"
}
export KAFKA_BROKER="127.0.0.1:$FRESHET_KAFKA_PORT" KAFKA_PORT=$FRESHET_KAFKA_PORT REGISTRY_PORT=$FRESHET_HTTP_PORT
K() { kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT" -m 15 "$@"; }
FMT='%p %o %K %S\n%k%s'

q "CREATE TABLE acct (id int PRIMARY KEY, grp int NOT NULL, bal numeric(12,2), note text)" >/dev/null
q "INSERT INTO acct SELECT i, i % 7, (i * 37 % 1000)::numeric(12,2) / 4, 'n' || i FROM generate_series(1, 60) i" >/dev/null
q "CREATE MATERIALIZED VIEW totals AS SELECT grp, count(*) AS n, sum(bal)::numeric(14,2) AS total FROM acct GROUP BY grp" >/dev/null
q "CREATE VIEW rich AS SELECT id, grp, bal FROM acct WHERE bal > 100" >/dev/null
out=$(q "CREATE CONNECTION k TO KAFKA (BROKER '127.0.0.1:$FRESHET_KAFKA_PORT')") || fail "$out"
out=$(q "CREATE CONNECTION csr TO CONFLUENT SCHEMA REGISTRY (URL 'http://127.0.0.1:$FRESHET_HTTP_PORT')") || fail "$out"

# ---- bad input: clear errors, nothing created
expect_error "CREATE SINK bad FROM nope INTO KAFKA CONNECTION k (TOPIC 'x') FORMAT JSON ENVELOPE UPSERT" 42P01
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION k (TOPIC 'x') KEY (nope) FORMAT JSON ENVELOPE UPSERT" 42703
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION k (TOPIC 'x') FORMAT JSON ENVELOPE UPSERT" 22023   # no KEY
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION k (TOPIC 'x', COLOUR 'red') KEY (grp) FORMAT JSON ENVELOPE UPSERT" 22023
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION k (TOPIC 'a b') KEY (grp) FORMAT JSON ENVELOPE UPSERT" 22023
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION k (TOPIC 'x') KEY (grp) FORMAT JSON ENVELOPE NONE" 22023
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION csr (TOPIC 'x') KEY (grp) FORMAT JSON ENVELOPE UPSERT" 42809
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION k (TOPIC 'x') KEY (grp) ENVELOPE UPSERT" 22023    # no FORMAT
expect_error "CREATE SINK bad FROM totals INTO KAFKA CONNECTION k TOPIC 'x'" 42601
dead=$(free_port)
q "CREATE CONNECTION nowhere TO KAFKA (BROKER '127.0.0.1:$dead')" >/dev/null
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "CREATE SINK bad FROM totals INTO KAFKA CONNECTION nowhere (TOPIC 'x') KEY (grp) FORMAT JSON ENVELOPE UPSERT" 2>&1) &&
  fail "a sink to an unreachable broker was created"
[[ "$out" == *"08000"*"127.0.0.1:$dead"* ]] || fail "unreachable broker error: $out"
[[ -z $(q "SHOW SINKS") ]] || fail "a failed CREATE SINK left a sink: $(q "SHOW SINKS")"

# ---- the sinks, and Freshet's own Kafka source reading one of them back
out=$(q "CREATE SINK s_totals FROM totals INTO KAFKA CONNECTION k (TOPIC 'sink.totals', TOPIC PARTITION COUNT 3) KEY (grp)
         FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr ENVELOPE UPSERT") || fail "s_totals: $out"
out=$(q "CREATE SINK s_acct FROM acct INTO KAFKA CONNECTION k (TOPIC 'sink.acct', TOPIC PARTITION COUNT 3) KEY (id)
         FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr ENVELOPE DEBEZIUM") || fail "s_acct: $out"
out=$(q "CREATE SINK s_rich FROM rich INTO KAFKA CONNECTION k (TOPIC 'sink.rich', TOPIC PARTITION COUNT 2) KEY (id) FORMAT JSON ENVELOPE DEBEZIUM") ||
  fail "s_rich: $out"
[[ $(q "SHOW SINKS" | cut -d'|' -f1 | tr '\n' ' ') == "s_acct s_rich s_totals " ]] || fail "SHOW SINKS: $(q "SHOW SINKS")"
out=$(q "CREATE SOURCE back_acct FROM KAFKA CONNECTION k (TOPIC 'sink.acct') FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr ENVELOPE DEBEZIUM") ||
  fail "reading sink.acct back: $out"
[[ $(K -L -t sink.totals | grep -c 'partition ') == 3 ]] || fail "sink.totals partitions: $(K -L -t sink.totals)"
expect_error "DROP MATERIALIZED VIEW totals" 2BP01

# Random writes: updates that move rows in and out of groups and of `rich`, inserts, deletes.
RANDOM=7
writes() {  # ROUNDS
  local r i sql
  for r in $(seq 1 "$1"); do
    sql="BEGIN;"
    for i in 1 2 3; do
      case $((RANDOM % 4)) in
        0) sql+="INSERT INTO acct VALUES ($((RANDOM % 200 + 61)), $((RANDOM % 9)), $((RANDOM % 400)).$((RANDOM % 100)), 'w') ON CONFLICT (id) DO NOTHING;" ;;
        1) sql+="DELETE FROM acct WHERE id = $((RANDOM % 260 + 1));" ;;
        *) sql+="UPDATE acct SET bal = $((RANDOM % 400)).$((RANDOM % 100)), grp = $((RANDOM % 9)) WHERE id = $((RANDOM % 260 + 1));" ;;
      esac
    done
    psql -X -q -At -c "$sql COMMIT;" >/dev/null 2>&1
  done
}

# The checks, once the sinks have caught up (each waits up to 20 s).
check_totals() {  # the Avro UPSERT topic replayed by the registry client equals the view
  local want got i
  want=$(q "SELECT grp, n, total FROM totals" | LC_ALL=C sort)
  for i in $(seq 1 40); do
    timeout 20 kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT" -C -e -q -t sink.totals -o beginning -f "$FMT" >"$WORK/totals.raw" 2>"$WORK/kcat.err" ||
      fail "kcat sink.totals: $(cat "$WORK/kcat.err")"
    got=$(cd "$JS" && node freshet_check.js decode sink.totals replay <"$WORK/totals.raw" | LC_ALL=C sort) || fail "decoding sink.totals: $got"
    [[ "$got" == "$want" ]] && return 0
    sleep 0.5
  done
  fail "sink.totals replayed != totals ($1):
$(diff <(echo "$want") <(echo "$got") | head -10)"
}
check_acct() {  # Freshet's DEBEZIUM source over sink.acct equals the table
  local i diff
  for i in $(seq 1 100); do
    diff=$(q "SELECT count(*) FROM ((SELECT * FROM acct EXCEPT ALL SELECT * FROM back_acct) UNION ALL (SELECT * FROM back_acct EXCEPT ALL SELECT * FROM acct)) d")
    [[ "$diff" == 0 ]] && return 0
    sleep 0.2
  done
  fail "back_acct != acct ($1): $diff rows differ; $(q "SELECT * FROM mz_source_statuses WHERE name = 'back_acct'")"
}
check_rich() {  # the JSON DEBEZIUM topic: every change exactly once, ending at the view
  local want got i
  want=$(q "SELECT id FROM rich ORDER BY id" | tr '\n' ' ')
  for i in $(seq 1 40); do
    timeout 20 kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT" -C -e -q -t sink.rich -o beginning -f '%p\t%o\t%k\t%s\n' >"$WORK/rich.txt" 2>"$WORK/kcat.err" ||
      fail "kcat sink.rich: $(cat "$WORK/kcat.err")"
    got=$(node -e '
      const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
      const last = new Map(); let n = 0;
      const recs = lines.map(l => l.split("\t")).map(([p, o, k, v]) => ({p: +p, o: +o, k, v: JSON.parse(v)}));
      recs.sort((a, b) => a.p - b.p || a.o - b.o);
      for (const r of recs) {
        const prev = last.has(r.k) ? last.get(r.k) : null;
        if (JSON.stringify(prev) !== JSON.stringify(r.v.before)) {
          console.log(`BROKEN key ${r.k} at ${r.p}/${r.o}: before ${JSON.stringify(r.v.before)} but the topic had ${JSON.stringify(prev)}`);
          process.exit(0);
        }
        if (r.v.after === null) last.delete(r.k); else last.set(r.k, r.v.after);
        if (r.v.after && JSON.parse(r.k).id !== r.v.after.id) { console.log(`key ${r.k} != after.id`); process.exit(0); }
        n++;
      }
      console.log([...last.values()].map(a => a.id).sort((a, b) => a - b).join(" ") + " ");
    ' "$WORK/rich.txt") || fail "checking sink.rich: $got"
    [[ "$got" == BROKEN* ]] && fail "sink.rich ($1): $got"
    [[ "$got" == "$want" ]] && return 0
    sleep 0.5
  done
  fail "sink.rich keys != rich ($1): topic '$got', view '$want'"
}
check_all() { check_totals "$1"; check_acct "$1"; check_rich "$1"; }

check_all "initial snapshot"
writes 40
check_all "after 40 write transactions"
status=$(q "SELECT name, state, last_error IS NULL, messages_total > 0 FROM mz_sink_statuses ORDER BY name" | tr '\n' ' ')
[[ "$status" == "s_acct|running|t|t s_rich|running|t|t s_totals|running|t|t " ]] || fail "mz_sink_statuses: $status"

# ---- kill -9 in the middle of a write load, restart on the same data dir and ports
restart() {  # SIGNAL
  kill "-$1" "$FRESHET_PID"
  for _ in $(seq 1 200); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$FRESHET_PID" 2>/dev/null
  "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "freshet did not come back after kill -$1"
}
for round in 1 2 3; do
  writes 200 &
  writer=$!
  sleep "0.$((3 + round * 2))"
  restart 9
  wait "$writer" 2>/dev/null
  writes 10
  check_all "after kill -9 number $round"
done
# The crash window itself: the broker acknowledged a batch, the sink's state is not stored
# yet (a failpoint exits there). The restart must read the batch back, not write it again.
kill -TERM "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
FRESHET_FAILPOINT_SINK_EXIT_AFTER_PRODUCE=4 "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
  --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
FRESHET_PID=$!
wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "freshet did not start with the failpoint"
for _ in $(seq 1 100); do kill -0 "$FRESHET_PID" 2>/dev/null || break; writes 1; done
kill -0 "$FRESHET_PID" 2>/dev/null && fail "the failpoint never fired"
grep -q "failpoint: exiting" "$FRESHET_LOG" || fail "freshet ended without the failpoint"
restart TERM
writes 5
check_all "after exiting between produce and store"
grep -q "messages were in the topic but not yet in the sink's state (read back)" "$FRESHET_LOG" || fail "nothing was read back after the failpoint"

restart TERM
writes 20
check_all "after a clean restart"
grep -q "cannot be restored" "$FRESHET_LOG" && fail "a sink was not restored: $(grep 'cannot be restored' "$FRESHET_LOG")"

# ---- DROP SINK stops it; DROP ... CASCADE takes sinks with it
out=$(q "DROP SINK s_rich") || fail "DROP SINK: $out"
before=$(K -C -e -q -t sink.rich -o beginning -f '.\n' | wc -l)
writes 10
sleep 1
after=$(K -C -e -q -t sink.rich -o beginning -f '.\n' | wc -l)
[[ "$before" == "$after" ]] || fail "sink.rich grew after DROP SINK ($before -> $after)"
expect_error "DROP SINK s_rich" 42704
q "DROP SINK IF EXISTS s_rich" >/dev/null || fail "DROP SINK IF EXISTS"
out=$(q "DROP MATERIALIZED VIEW totals CASCADE") || fail "DROP ... CASCADE: $out"
[[ $(q "SHOW SINKS" | cut -d'|' -f1 | tr '\n' ' ') == "s_acct " ]] || fail "SHOW SINKS after CASCADE: $(q "SHOW SINKS")"
freshet_alive || fail "freshet died"
e2e_pass $NAME
