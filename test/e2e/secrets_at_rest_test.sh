#!/usr/bin/env bash
# Secrets at rest (issue 12): the data directory and everything in it is owner-only (0700 /
# 0600, also files created after start); CREATE SECRET values are sealed with a key file
# (AES-256-GCM), so the plaintext appears in no file under the data directory; the secret still
# works after a restart (a Kafka source reading Freshet's own topic over SASL with the
# secret as its password, and the registry with it as Basic auth); another key file refuses to
# start; PASSWORD '<literal>' in CREATE CONNECTION is refused with a hint.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=secrets_at_rest
BUGS=()
fail() { BUGS+=("$1"); echo "  FAIL: $1"; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

PW="pw-$RANDOM$RANDOM-not-in-any-file"
export PGPASSWORD=$PW
FRESHET_EXTRA_ARGS="--user-password freshet:$PW"
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
DATA="$FRESHET_DATA_DIR/data"

out=$(q "CREATE TABLE t (id int PRIMARY KEY, v text)") || fail "create table: $out"
out=$(q "INSERT INTO t VALUES (1, 'one'), (2, 'two')") || fail "insert: $out"
out=$(q "CREATE SECRET kpw AS '$PW'") || fail "create secret: $out"

# A literal password is refused, with a hint to use a secret.
out=$(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
  -c "CREATE CONNECTION lit TO KAFKA (BROKER '127.0.0.1:$FRESHET_KAFKA_PORT', SASL PASSWORD 'literal-pw')" 2>&1) &&
  fail "SASL PASSWORD literal accepted"
[[ "$out" == *"22023"*"must provide a secret value"* && "$out" == *"HINT"*"SECRET"* ]] || fail "SASL PASSWORD literal: $out"
out=$(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
  -c "CREATE CONNECTION lit TO POSTGRES (HOST 'h', USER 'u', PASSWORD 'literal-pw')" 2>&1) && fail "PASSWORD literal accepted"
[[ "$out" == *"22023"* && "$out" == *"HINT"* ]] || fail "PASSWORD literal: $out"

out=$(q "CREATE CONNECTION k TO KAFKA (BROKER '127.0.0.1:$FRESHET_KAFKA_PORT', SECURITY PROTOCOL 'SASL_PLAINTEXT', SASL MECHANISMS 'PLAIN', SASL USERNAME 'freshet', SASL PASSWORD SECRET kpw)") ||
  fail "kafka connection: $out"
out=$(q "CREATE CONNECTION csr TO CONFLUENT SCHEMA REGISTRY (URL 'http://127.0.0.1:$FRESHET_HTTP_PORT', USERNAME 'freshet', PASSWORD SECRET kpw)") ||
  fail "registry connection: $out"
out=$(q "CREATE SOURCE t_copy FROM KAFKA CONNECTION k (TOPIC 'freshet.public.t') FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr ENVELOPE UPSERT") ||
  fail "source over SASL with the secret: $out"

wait_rows() {  # $1: expected count
  local i n
  for i in $(seq 1 100); do
    n=$(q "SELECT count(*) FROM t_copy" 2>/dev/null)
    [[ "$n" == "$1" ]] && return 0
    sleep 0.2
  done
  echo "$n"
  return 1
}
n=$(wait_rows 2) || fail "the source read $n rows, want 2"

check_at_rest() {  # $1: label
  local bad
  bad=$(find "$DATA" -type d ! -perm 0700 -printf '%m %p\n' | head -5)
  [[ -z "$bad" ]] || fail "$1: directories not 0700: $bad"
  bad=$(find "$DATA" -type f -perm /077 -printf '%m %p\n' | head -5)
  [[ -z "$bad" ]] || fail "$1: files readable by group/others: $bad"
  [[ -f "$DATA/secret.key" && $(stat -c %a "$DATA/secret.key") == 600 ]] || fail "$1: no secret.key of mode 600"
  bad=$(grep -rlaF -- "$PW" "$DATA" | head -5)
  [[ -z "$bad" ]] || fail "$1: the secret's plaintext is in: $bad"
  echo "  $1: $(find "$DATA" -type f | wc -l) files, none holds the plaintext; modes ok"
}
check_at_rest "running"

# ---- restart: the secret still opens ------------------------------------------------------
stop_keep() {
  kill "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null; FRESHET_PID=
}
stop_keep
LOG2="$FRESHET_DATA_DIR/freshet2.log"
restart() {  # extra args...
  "$FRESHET_BIN" serve --data-dir "$DATA" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" \
    --user-password "freshet:$PW" "$@" >"$LOG2" 2>&1 &
  FRESHET_PID=$!
}
restart
wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || { fail "restart did not come up: $(tail -5 "$LOG2")"; }
out=$(q "INSERT INTO t VALUES (3, 'three')") || fail "insert after restart: $out"
n=$(wait_rows 3) || fail "after restart the source read $n rows, want 3 (secret not usable?)"
check_at_rest "after restart"

# ---- another key file: refused, naming the secret -------------------------------------------
stop_keep
restart --secret-key-file "$FRESHET_DATA_DIR/other.key"
for i in $(seq 1 100); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$FRESHET_PID" 2>/dev/null; then
  fail "started with another data directory's key"
  stop_keep
else
  wait "$FRESHET_PID" 2>/dev/null; FRESHET_PID=
  grep -q "secret kpw" "$LOG2" || fail "wrong key: unclear error: $(tail -3 "$LOG2")"
  [[ $(stat -c %a "$FRESHET_DATA_DIR/other.key") == 600 ]] || fail "other.key not 0600"
fi
# The right key still works after that.
restart
wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "restart with the right key failed: $(tail -5 "$LOG2")"
n=$(wait_rows 3) || fail "after the last restart the source has $n rows, want 3"
freshet_alive || fail "freshet died"
stop_freshet

if ((${#BUGS[@]})); then
  echo "FAIL $NAME: ${#BUGS[@]} failed check(s):"; printf '  %s\n' "${BUGS[@]}"
  exit 1
fi
e2e_pass $NAME
