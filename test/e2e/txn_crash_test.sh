#!/usr/bin/env bash
# Transaction blocks with DDL across crashes (issue 11). The server is killed
#   - between a COMMIT's durability and its acknowledgement (test-only fault point
#     FRESHET_FAULT=after_durable_before_ack: the process ends with _exit(137) there),
#   - after the commit point, before the block's rows are in the tables collection
#     (FRESHET_FAULT=after_catalog_before_tables: start-up redoes them),
#   - with kill -9 while a block with DDL and writes is open (before COMMIT),
# and restarted on the same data directory: the block is there entirely, or not at all.
# Also: BEGIN; DROP TABLE keepme; ROLLBACK keeps keepme and its rows across a restart, and
# another session sees nothing of an open block's DDL until its COMMIT.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=txn_crash
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: the fault points are Freshet's)"; exit 0; fi
BUGS=()
fail() { BUGS+=("$1"); echo "  FAIL: $1"; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
DATA="$FRESHET_DATA_DIR/data"
LOG2="$FRESHET_DATA_DIR/restart.log"

restart() {  # [FAULT]: kill -9 the server if alive, start it again on the same data directory
  if [[ -n "${FRESHET_PID:-}" ]] && kill -0 "$FRESHET_PID" 2>/dev/null; then kill -9 "$FRESHET_PID"; fi
  [[ -n "${FRESHET_PID:-}" ]] && wait "$FRESHET_PID" 2>/dev/null
  FRESHET_FAULT="${1:-}" "$FRESHET_BIN" serve --data-dir "$DATA" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$LOG2" 2>&1 7>&- &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || { fail "restart did not come up: $(tail -5 "$LOG2")"; return 1; }
}

out=$(q "CREATE TABLE keepme (id int PRIMARY KEY, v text)") || fail "create keepme: $out"
out=$(q "INSERT INTO keepme VALUES (1, 'one'), (2, 'two')") || fail "insert keepme: $out"
out=$(q "CREATE TABLE old (x int)") || fail "create old: $out"
out=$(q "INSERT INTO old VALUES (7)") || fail "insert old: $out"

# ---- ROLLBACK of a DROP, across a restart --------------------------------------------------
out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "BEGIN" -c "DROP TABLE keepme" -c "ROLLBACK" 2>&1) || fail "drop/rollback: $out"
restart
out=$(q "SELECT id || ':' || v FROM keepme ORDER BY id" | tr '\n' ' ')
[[ "$out" == "1:one 2:two " ]] || fail "after ROLLBACK of DROP TABLE and a restart: keepme is '$out'"

# ---- isolation: an open block's DDL is its own until COMMIT --------------------------------
FIFO="$FRESHET_DATA_DIR/s1.fifo"
mkfifo "$FIFO"
psql -X -q -A -t -v ON_ERROR_STOP=1 <"$FIFO" >"$FRESHET_DATA_DIR/s1.out" 2>&1 &
S1=$!
exec 7>"$FIFO"
echo "BEGIN; CREATE TABLE vis (a int); INSERT INTO vis VALUES (42); DROP TABLE old; SELECT 'ready';" >&7
for _ in $(seq 1 100); do grep -q ready "$FRESHET_DATA_DIR/s1.out" && break; sleep 0.1; done
grep -q ready "$FRESHET_DATA_DIR/s1.out" || fail "session 1 did not run its block: $(cat "$FRESHET_DATA_DIR/s1.out")"
out=$(psql -X -q -A -t -c "SELECT a FROM vis" 2>&1) && fail "another session sees the open block's table: $out"
[[ "$out" == *"does not exist"* ]] || fail "another session reading vis: $out"
out=$(q "SELECT x FROM old") ; [[ "$out" == 7 ]] || fail "another session lost old while the block dropping it is open: $out"
# ---- kill -9 during the block: nothing of it -----------------------------------------------
restart
exec 7>&-
for _ in $(seq 1 50); do kill -0 "$S1" 2>/dev/null || break; sleep 0.1; done
kill "$S1" 2>/dev/null
wait "$S1" 2>/dev/null
out=$(psql -X -q -A -t -c "SELECT a FROM vis" 2>&1) && fail "the block killed before COMMIT left vis: $out"
out=$(q "SELECT x FROM old"); [[ "$out" == 7 ]] || fail "the block killed before COMMIT dropped old: $out"

# the same block committed: another session sees it all
out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "BEGIN" -c "CREATE TABLE vis (a int)" -c "INSERT INTO vis VALUES (42)" \
  -c "COMMIT" 2>&1) || fail "block vis: $out"
out=$(q "SELECT a FROM vis"); [[ "$out" == 42 ]] || fail "after COMMIT another session reads vis as '$out'"

# ---- killed between durability and acknowledgement ----------------------------------------
check_block() {  # $1: label. The block of run_block: all of it.
  local out
  out=$(q "SELECT k || '=' || n FROM blk ORDER BY k" | tr '\n' ' ')
  [[ "$out" == "a=1 b=2 " ]] || fail "$1: blk is '$out'"
  out=$(q "SELECT n FROM blk_v WHERE k = 'b'"); [[ "$out" == 20 ]] || fail "$1: blk_v is '$out'"
  out=$(q "SELECT count(*) FROM keepme"); [[ "$out" == 3 ]] || fail "$1: keepme has $out rows, want 3"
  out=$(psql -X -q -A -t -c "SELECT * FROM old" 2>&1) && fail "$1: old was not dropped: $out"
  out=$(q "SELECT count(*) FROM vis"); [[ "$out" == 2 ]] || fail "$1: vis has $out rows, want 2"
}
run_block() {  # COMMIT is never answered: the server ends at the fault point
  psql -X -q -A -t -v ON_ERROR_STOP=1 -c "BEGIN" -c "CREATE TABLE blk (k text PRIMARY KEY, n int)" \
    -c "INSERT INTO blk VALUES ('a', 1), ('b', 2)" -c "CREATE VIEW blk_v AS SELECT k, n * 10 AS n FROM blk" \
    -c "INSERT INTO keepme VALUES (3, 'three')" -c "INSERT INTO vis VALUES (43)" -c "DROP TABLE old" -c "COMMIT" 2>&1
}
restart after_durable_before_ack
out=$(run_block) && fail "COMMIT was acknowledged although the server ended before: $out"
wait "$FRESHET_PID" 2>/dev/null; rc=$?
[[ $rc == 137 ]] || fail "the server did not end at the fault point (exit $rc): $(tail -3 "$LOG2")"
restart
check_block "killed between durability and acknowledgement"

# ---- killed after the commit point, before the table records: redone at start -------------
out=$(q "DROP VIEW blk_v") || fail "drop blk_v: $out"
out=$(q "DROP TABLE blk") || fail "drop blk: $out"
out=$(q "DELETE FROM keepme WHERE id = 3") || fail "delete: $out"
out=$(q "DELETE FROM vis WHERE a = 43") || fail "delete vis: $out"
out=$(q "CREATE TABLE old (x int)") || fail "create old: $out"
restart after_catalog_before_tables
out=$(run_block) && fail "COMMIT was acknowledged although the server ended before: $out"
wait "$FRESHET_PID" 2>/dev/null; rc=$?
[[ $rc == 137 ]] || fail "the server did not end at the second fault point (exit $rc)"
restart
grep -q "redoing" "$LOG2" || fail "start-up did not redo the block's table writes"
check_block "killed after the commit point"
# and once more: the redo is not repeated over later writes
out=$(q "UPDATE blk SET n = 5 WHERE k = 'a'") || fail "update: $out"
restart
out=$(q "SELECT n FROM blk WHERE k = 'a'"); [[ "$out" == 5 ]] || fail "a later write was overwritten by a repeated redo: $out"

freshet_alive || fail "freshet died"
stop_freshet

if ((${#BUGS[@]})); then
  echo "FAIL $NAME: ${#BUGS[@]} failed check(s):"; printf '  %s\n' "${BUGS[@]}"
  exit 1
fi
e2e_pass $NAME
