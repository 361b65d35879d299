#!/usr/bin/env bash
# Roles and privileges end to end (src/server/README.md "Roles and privileges"): a role created
# by SQL logs in over psql (SCRAM), the Kafka API (kcat with SASL SCRAM-SHA-256 and PLAIN) and
# the schema registry (curl, HTTP Basic). Without SELECT it reads the table by none of the
# three, after GRANT by all three, after REVOKE by none again; it cannot DROP what it does not
# own; its password and privileges survive a restart (kill -9). A consumer group belongs to the
# role that first used it (another role gets GROUP_AUTHORIZATION_FAILED); without CONNECT on the
# database a role logs in by none of psql, the HTTP API and Kafka SASL.
# E2E_TARGET=postgres runs the psql part (PostgreSQL 15 with trust authentication: no password
# checks, no Kafka, no registry, no restart).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=roles
export PGPASSWORD=admin-pw
FRESHET_EXTRA_ARGS="--user-password freshet:admin-pw" start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
fail() { e2e_fail $NAME "$1"; exit 1; }
PG_ONLY=0
[[ "$E2E_TARGET" == postgres ]] && PG_ONLY=1
if ((!PG_ONLY)); then
  command -v kcat >/dev/null || fail "kcat not installed (apt-get install kcat)"
  command -v curl >/dev/null || fail "curl not installed"
fi

admin() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
as_alice() { PGPASSWORD=alice-pw psql -X -q -At -U alice -c "$1" 2>&1; }
TOPIC=freshet.public.r_orders
kcat_alice() {  # kcat_alice MECHANISM: every record of the topic, or the error
  kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT" -m 10 -X security.protocol=SASL_PLAINTEXT -X "sasl.mechanisms=$1" \
    -X sasl.username=alice -X sasl.password=alice-pw -C -t "$TOPIC" -o beginning -e -q -f '%o\n' 2>&1
}
registry_alice() {  # the HTTP status of the topic's value subject
  curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw \
    "http://127.0.0.1:$FRESHET_HTTP_PORT/subjects/$TOPIC-value/versions/latest"
}

# Clean slate on a reused PostgreSQL cluster.
admin "DROP TABLE IF EXISTS r_orders; DROP TABLE IF EXISTS r_mine" >/dev/null
admin "DROP ROLE IF EXISTS alice" >/dev/null
out=$(admin "CREATE ROLE alice LOGIN PASSWORD 'alice-pw'") || fail "CREATE ROLE: $out"
out=$(admin "CREATE TABLE r_orders (id int PRIMARY KEY, item text)") || fail "CREATE TABLE: $out"
out=$(admin "INSERT INTO r_orders VALUES (1, 'apple'), (2, 'pear'), (3, 'fig')") || fail "INSERT: $out"

# ---- without SELECT: none of the three ----
out=$(as_alice "SELECT 1") || fail "alice cannot log in: $out"
if ((!PG_ONLY)); then
  out=$(PGPASSWORD=wrong psql -X -q -At -U alice -c "SELECT 1" 2>&1) && fail "a wrong password was accepted"
  grep -q 'password authentication failed for user "alice"' <<<"$out" || fail "wrong password: $out"
fi
out=$(as_alice "SELECT count(*) FROM r_orders") && fail "read without SELECT: $out"
grep -q 'permission denied for table r_orders' <<<"$out" || fail "psql without SELECT: $out"
out=$(as_alice "INSERT INTO r_orders VALUES (9, 'x')") && fail "insert without INSERT: $out"
grep -q 'permission denied for table r_orders' <<<"$out" || fail "psql insert: $out"
out=$(as_alice "DROP TABLE r_orders") && fail "a non-owner dropped the table"
grep -q 'must be owner of table r_orders' <<<"$out" || fail "DROP by a non-owner: $out"
if ((!PG_ONLY)); then
  for mech in SCRAM-SHA-256 PLAIN; do
    out=$(kcat_alice $mech)
    grep -qi 'authoriz' <<<"$out" || fail "kcat ($mech) without SELECT: $out"
    grep -qx '[0-9]*' <<<"$out" && fail "kcat ($mech) read records without SELECT: $out"
  done
  # Metadata lists only what the principal may describe.
  out=$(kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT" -m 10 -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=PLAIN \
    -X sasl.username=alice -X sasl.password=alice-pw -L 2>&1) || fail "kcat -L: $out"
  grep -q "$TOPIC" <<<"$out" && fail "kcat -L lists a topic alice may not read: $out"
  code=$(registry_alice)
  [[ "$code" == 403 ]] || fail "registry without SELECT answered $code"
  body=$(curl -s -u alice:alice-pw "http://127.0.0.1:$FRESHET_HTTP_PORT/subjects/$TOPIC-value/versions/latest")
  grep -q '"error_code":40301' <<<"$body" || fail "registry 403 body: $body"
  subjects=$(curl -s -u alice:alice-pw "http://127.0.0.1:$FRESHET_HTTP_PORT/subjects")
  grep -q "$TOPIC" <<<"$subjects" && fail "registry lists a subject alice may not read: $subjects"
  code=$(curl -s -o /dev/null -w '%{http_code}' -u freshet:admin-pw "http://127.0.0.1:$FRESHET_HTTP_PORT/subjects/$TOPIC-value/versions/latest")
  [[ "$code" == 200 ]] || fail "registry for the superuser answered $code"
fi

# ---- GRANT SELECT: all three ----
out=$(admin "GRANT SELECT ON r_orders TO alice") || fail "GRANT: $out"
out=$(as_alice "SELECT count(*) FROM r_orders") || fail "psql after GRANT: $out"
[[ "$out" == 3 ]] || fail "psql after GRANT read: $out"
if ((!PG_ONLY)); then
  for mech in SCRAM-SHA-256 PLAIN; do
    out=$(kcat_alice $mech) || fail "kcat ($mech) after GRANT: $out"
    [[ $(grep -cx '[0-9]*' <<<"$out") -eq 3 ]] || fail "kcat ($mech) after GRANT read: $out"
  done
  code=$(registry_alice)
  [[ "$code" == 200 ]] || fail "registry after GRANT answered $code"
fi
out=$(as_alice "INSERT INTO r_orders VALUES (9, 'x')") && fail "insert with SELECT only: $out"

# ---- consumer groups (Kafka's group ACLs): a group belongs to the role that first used it ----
if ((!PG_ONLY)); then
  admin "DROP ROLE IF EXISTS bob" >/dev/null
  out=$(admin "CREATE ROLE bob LOGIN PASSWORD 'bob-pw'") || fail "CREATE ROLE bob: $out"
  out=$(admin "GRANT SELECT ON r_orders TO bob") || fail "GRANT to bob: $out"
  kcat_group() {  # kcat_group USER GROUP: a balanced consumer (JoinGroup, SyncGroup, OffsetCommit)
    timeout 30 kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT" -m 10 -X security.protocol=SASL_PLAINTEXT \
      -X sasl.mechanisms=PLAIN -X "sasl.username=$1" -X "sasl.password=$1-pw" -G "$2" -o beginning -e -q \
      -f '%o\n' "$TOPIC" 2>&1
  }
  out=$(kcat_group alice r_group_alice) || fail "alice's group: $out"
  [[ $(grep -cx '[0-9]*' <<<"$out") -eq 3 ]] || fail "alice's group read: $out"
  committed=$(admin "SELECT committed_offset > 0 AND lag = 0 FROM mz_kafka_consumer_groups WHERE group_id = 'r_group_alice'")
  [[ "$committed" == t ]] || fail "alice's group committed: $committed"
  out=$(kcat_group bob r_group_alice) && fail "bob used alice's group: $out"
  grep -q 'Group authorization failed' <<<"$out" || fail "bob in alice's group: $out"
  committed=$(admin "SELECT committed_offset > 0 AND lag = 0 FROM mz_kafka_consumer_groups WHERE group_id = 'r_group_alice'")
  [[ "$committed" == t ]] || fail "alice's group after bob: $committed"
  out=$(kcat_group bob r_group_bob) || fail "bob's own group: $out"
  [[ $(grep -cx '[0-9]*' <<<"$out") -eq 3 ]] || fail "bob's group read: $out"
  # A member of the owner (INHERIT) has the owner's privileges, as in PostgreSQL.
  out=$(admin "GRANT alice TO bob") || fail "GRANT alice TO bob: $out"
  out=$(kcat_group bob r_group_alice) || fail "bob as alice's member: $out"
  out=$(admin "REVOKE alice FROM bob") || fail "REVOKE alice FROM bob: $out"
  out=$(kcat_group bob r_group_alice) && fail "bob after REVOKE alice: $out"
  out=$(admin "REVOKE SELECT ON r_orders FROM bob") || fail "REVOKE from bob: $out"
fi

# ---- ownership: alice's own table; the admin may still drop it ----
out=$(admin "GRANT CREATE ON SCHEMA public TO alice") || fail "GRANT CREATE: $out"
out=$(as_alice "CREATE TABLE r_mine (a int)") || fail "alice CREATE TABLE: $out"
owner=$(admin "SELECT tableowner FROM pg_tables WHERE tablename = 'r_mine'")
[[ "$owner" == alice ]] || fail "owner of r_mine: $owner"

# ---- restart: the role, its password and its privileges are durable ----
if ((!PG_ONLY)); then
  kill -9 "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
  "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" \
    --user-password freshet:admin-pw >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "restart did not come up"
  out=$(as_alice "SELECT count(*) FROM r_orders") || fail "psql after restart: $out"
  [[ "$out" == 3 ]] || fail "psql after restart read: $out"
  out=$(kcat_alice SCRAM-SHA-256) || fail "kcat after restart: $out"
  [[ $(grep -cx '[0-9]*' <<<"$out") -eq 3 ]] || fail "kcat after restart read: $out"
  owner=$(admin "SELECT tableowner FROM pg_tables WHERE tablename = 'r_mine'")
  [[ "$owner" == alice ]] || fail "owner of r_mine after restart: $owner"
  out=$(kcat_group bob r_group_alice) && fail "bob used alice's group after a restart: $out"
  grep -q 'Group authorization failed' <<<"$out" || fail "bob in alice's group after a restart: $out"
fi

# ---- REVOKE: none of the three again ----
out=$(admin "REVOKE SELECT ON r_orders FROM alice") || fail "REVOKE: $out"
out=$(as_alice "SELECT count(*) FROM r_orders") && fail "read after REVOKE: $out"
grep -q 'permission denied for table r_orders' <<<"$out" || fail "psql after REVOKE: $out"
if ((!PG_ONLY)); then
  out=$(kcat_alice PLAIN)
  grep -qi 'authoriz' <<<"$out" || fail "kcat after REVOKE: $out"
  code=$(registry_alice)
  [[ "$code" == 403 ]] || fail "registry after REVOKE answered $code"
fi

# ---- CONNECT on the database: checked at every login (psql, HTTP API, Kafka SASL) ----
DB=$(admin "SELECT current_database()")
out=$(admin "REVOKE CONNECT ON DATABASE \"$DB\" FROM PUBLIC") || fail "REVOKE CONNECT: $out"
out=$(as_alice "SELECT 1") && fail "alice logged in without CONNECT: $out"
grep -q "permission denied for database \"$DB\"" <<<"$out" || fail "psql without CONNECT: $out"
grep -q 'User does not have CONNECT privilege' <<<"$out" || fail "psql without CONNECT (detail): $out"
out=$(admin "SELECT 1") || fail "the superuser without PUBLIC's CONNECT: $out"
if ((!PG_ONLY)); then
  out=$(admin "GRANT SELECT ON r_orders TO alice") || fail "GRANT: $out"
  out=$(kcat_alice SCRAM-SHA-256) && fail "kcat without CONNECT: $out"
  grep -qx '[0-9]*' <<<"$out" && fail "kcat read records without CONNECT: $out"
  code=$(curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw -d '{"query": "SELECT 1"}' \
    "http://127.0.0.1:$FRESHET_HTTP_PORT/api/sql")
  [[ "$code" == 403 ]] || fail "HTTP API without CONNECT answered $code"
  code=$(registry_alice)  # the registry's login is Kafka SASL's: refused (401)
  [[ "$code" == 401 ]] || fail "registry without CONNECT answered $code"
fi
out=$(admin "GRANT CONNECT ON DATABASE \"$DB\" TO alice") || fail "GRANT CONNECT: $out"
out=$(as_alice "SELECT 1") || fail "alice with CONNECT: $out"
if ((!PG_ONLY)); then
  out=$(kcat_alice SCRAM-SHA-256) || fail "kcat with CONNECT: $out"
  [[ $(grep -cx '[0-9]*' <<<"$out") -eq 3 ]] || fail "kcat with CONNECT read: $out"
  out=$(admin "REVOKE SELECT ON r_orders FROM alice") || fail "REVOKE: $out"
fi
out=$(admin "REVOKE CONNECT ON DATABASE \"$DB\" FROM alice") || fail "REVOKE CONNECT from alice: $out"
out=$(admin "GRANT CONNECT ON DATABASE \"$DB\" TO PUBLIC") || fail "GRANT CONNECT TO PUBLIC: $out"

# ---- DROP ROLE waits for what the role owns and holds ----
out=$(admin "DROP ROLE alice") && fail "DROP ROLE of an owner succeeded"
grep -q 'cannot be dropped because some objects depend on it' <<<"$out" || fail "DROP ROLE: $out"
out=$(admin "DROP TABLE r_mine") || fail "DROP TABLE r_mine: $out"
out=$(admin "REVOKE CREATE ON SCHEMA public FROM alice") || fail "REVOKE CREATE: $out"
out=$(admin "DROP ROLE alice") || fail "DROP ROLE: $out"
((PG_ONLY)) || { out=$(admin "DROP ROLE bob") || fail "DROP ROLE bob: $out"; }
out=$(as_alice "SELECT 1") && fail "a dropped role logged in"
admin "DROP TABLE r_orders" >/dev/null
freshet_alive || fail "the server died"
e2e_pass $NAME
