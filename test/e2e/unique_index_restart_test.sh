#!/usr/bin/env bash
# CREATE UNIQUE INDEX survives a restart (kill -9 too): the constraint is rebuilt from the
# index object and keeps refusing duplicates; DROP INDEX after the restart lifts it.
# The SQL behaviour itself is test/sql/unique_indexes.slt.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=unique_index_restart
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: restarts a Freshet server"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }

q "CREATE TABLE t (id int PRIMARY KEY, a int, b text)" >/dev/null
q "INSERT INTO t VALUES (1, 10, 'x'), (2, 20, 'y'), (3, NULL, 'z')" >/dev/null
out=$(q "CREATE UNIQUE INDEX t_a ON t (a)") || fail "create unique index: $out"
out=$(q "CREATE UNIQUE INDEX t_b ON t (b)") || fail "create unique index: $out"

id=20
for how in TERM KILL; do
  id=$((id + 1))
  kill -s "$how" "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
  "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || { e2e_fail $NAME "restart after SIG$how did not come up"; exit 1; }
  out=$(q "INSERT INTO t VALUES (10, 10, 'new$how')")
  grep -q 'duplicate key value violates unique constraint "t_a"' <<<"$out" || fail "after SIG$how: duplicate a accepted: $out"
  out=$(q "INSERT INTO t VALUES (11, NULL, 'x')")
  grep -q 'unique constraint "t_b"' <<<"$out" || fail "after SIG$how: duplicate b accepted: $out"
  out=$(q "INSERT INTO t VALUES ($id, NULL, 'n$how')") || fail "after SIG$how: a second NULL a refused: $out"
  out=$(q "SELECT indisunique FROM pg_index WHERE indexrelid = 't_a'::regclass")
  [[ "$out" == t ]] || fail "after SIG$how: pg_index.indisunique is '$out'"
done
out=$(q "DROP INDEX t_a") || fail "drop index: $out"
out=$(q "INSERT INTO t VALUES (13, 10, 'w')") || fail "duplicate a refused after DROP INDEX: $out"
out=$(q "SELECT count(*) FROM t")
[[ "$out" == 6 ]] || fail "expected 6 rows, got $out"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
