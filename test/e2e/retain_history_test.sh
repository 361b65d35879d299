#!/usr/bin/env bash
# SELECT ... AS OF a past time, answered from kept history (Materialize's RETAIN HISTORY):
#   1. a table WITH (RETAIN HISTORY FOR '10m'): AS OF a time between two writes gives the rows
#      of then; AS OF AT LEAST and the present are unchanged;
#   2. a materialized view and an indexed view with RETAIN HISTORY over a table without it;
#      a join of the table's history with the view's;
#   3. a table without history, a time before the window or before the history began: 22023
#      with the valid time in the detail;
#   4. ALTER TABLE ... SET (RETAIN HISTORY FOR ...) starts keeping history, RESET stops it;
#   5. after a restart the setting stays and history is kept again from the restart on.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=retain_history
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: Materialize's RETAIN HISTORY"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }
now() { q "SELECT mz_now()::text"; }
pause() { sleep 0.05; }

out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE TABLE h (a int) WITH (RETAIN HISTORY FOR '10m');
CREATE TABLE plain (a int);
CREATE MATERIALIZED VIEW mv WITH (RETAIN HISTORY = FOR '10m') AS SELECT count(*) AS c, sum(a) AS s FROM plain;
CREATE VIEW v AS SELECT a * 2 AS d FROM plain;
CREATE INDEX v_idx ON v (d) WITH (RETAIN HISTORY FOR '10m');
INSERT INTO h VALUES (1);
INSERT INTO plain VALUES (10);
SQL
) || fail "setup: $out"
pause
t1=$(now)
[[ "$t1" =~ ^[0-9]+$ ]] || fail "mz_now() gave '$t1'"
pause
q "INSERT INTO h VALUES (2)" >/dev/null
q "UPDATE plain SET a = 20" >/dev/null
q "INSERT INTO plain VALUES (30)" >/dev/null
pause
t2=$(now)
pause
q "DELETE FROM h WHERE a = 1" >/dev/null

# 1. The table.
out=$(q "SELECT string_agg(a::text, ',' ORDER BY a) FROM h AS OF $t1")
[[ "$out" == 1 ]] || fail "h AS OF t1: '$out'"
out=$(q "SELECT string_agg(a::text, ',' ORDER BY a) FROM h AS OF $t2")
[[ "$out" == 1,2 ]] || fail "h AS OF t2: '$out'"
out=$(q "SELECT string_agg(a::text, ',' ORDER BY a) FROM h")
[[ "$out" == 2 ]] || fail "h now: '$out'"
out=$(q "SELECT string_agg(a::text, ',' ORDER BY a) FROM h AS OF AT LEAST $t1")
[[ "$out" == 2 ]] || fail "h AS OF AT LEAST t1: '$out'"

# SUBSCRIBE AS OF t1: the rows at t1, then each change since, at its time.
out=$(psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 2>&1 <<SQL
BEGIN;
DECLARE c CURSOR FOR SUBSCRIBE h AS OF $t1;
FETCH ALL c WITH (timeout = '0s');
COMMIT;
SQL
)
first=$(head -1 <<<"$out")
[[ "$first" == "$t1 1 1" ]] || fail "SUBSCRIBE h AS OF t1 starts with '$first' (all: $out)"
rest=$(tail -n +2 <<<"$out" | awk '{print $2, $3}' | tr '\n' ';')
[[ "$rest" == "1 2;-1 1;" ]] || fail "SUBSCRIBE h AS OF t1 then gives '$rest' (all: $out)"
out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "BEGIN" -c "DECLARE c CURSOR FOR SUBSCRIBE plain AS OF $t1" 2>&1)
[[ "$out" == *"is not valid for all inputs"* ]] || fail "SUBSCRIBE plain AS OF t1: '$out'"

# 2. The materialized view and the indexed view (their table keeps no history).
out=$(q "SELECT c || ',' || s FROM mv AS OF $t1")
[[ "$out" == 1,10 ]] || fail "mv AS OF t1: '$out'"
out=$(q "SELECT c || ',' || s FROM mv AS OF $t2")
[[ "$out" == 2,50 ]] || fail "mv AS OF t2: '$out'"
out=$(q "SELECT string_agg(d::text, ',' ORDER BY d) FROM v AS OF $t1")
[[ "$out" == 20 ]] || fail "v AS OF t1: '$out'"
out=$(q "SELECT string_agg(d::text, ',' ORDER BY d) FROM v AS OF $t2")
[[ "$out" == 40,60 ]] || fail "v AS OF t2: '$out'"
out=$(psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 2>&1 <<SQL
BEGIN;
DECLARE c CURSOR FOR SUBSCRIBE mv AS OF $t1;
FETCH ALL c WITH (timeout = '0s');
COMMIT;
SQL
)
[[ "$(head -1 <<<"$out")" == "$t1 1 1 10" ]] || fail "SUBSCRIBE mv AS OF t1: '$out'"
sum=$(awk '{n[$3 " " $4] += $2} END {for (k in n) if (n[k] != 0) print k, n[k]}' <<<"$out" | sort | tr '\n' ';')
[[ "$sum" == "2 50 1;" ]] || fail "SUBSCRIBE mv AS OF t1 adds up to '$sum': '$out'"
out=$(q "SELECT count(*) FROM h, v AS OF $t2")
[[ "$out" == 4 ]] || fail "h x v AS OF t2: '$out'"

# 3. Refusals.
out=$(q "SELECT * FROM plain AS OF $t1")
[[ "$out" == *"could not find a valid timestamp"* ]] || fail "plain AS OF t1: '$out'"
early=$((t1 - 3600000))
out=$(psql -X -q -A -t -c "SELECT * FROM h AS OF $early" 2>&1)
[[ "$out" == *"could not find a valid timestamp"* && "$out" == *"is not valid for all inputs"* ]] || fail "h AS OF an hour ago: '$out'"
out=$(q "CREATE TABLE bad (a int) WITH (RETAIN HISTORY FOR 'soon')")
[[ "$out" == *"invalid RETAIN HISTORY duration"* ]] || fail "bad duration: '$out'"
out=$(q "CREATE TABLE short (a int) WITH (RETAIN HISTORY FOR '300ms')") || fail "short: $out"
q "INSERT INTO short VALUES (1)" >/dev/null
pause
ts=$(now)
sleep 0.6
q "INSERT INTO short VALUES (2)" >/dev/null
out=$(q "SELECT count(*) FROM short AS OF $ts")
[[ "$out" == *"could not find a valid timestamp"* ]] || fail "short AS OF outside its 300 ms: '$out'"

# 4. ALTER ... SET / RESET.
out=$(q "ALTER TABLE plain SET (RETAIN HISTORY FOR '5m')") || fail "alter set: $out"
pause
t3=$(now)
pause
q "INSERT INTO plain VALUES (40)" >/dev/null
out=$(q "SELECT count(*) FROM plain AS OF $t3")
[[ "$out" == 2 ]] || fail "plain AS OF t3 after SET: '$out'"
out=$(q "SELECT count(*) FROM plain AS OF $t1")
[[ "$out" == *"could not find a valid timestamp"* ]] || fail "plain AS OF t1 (before SET): '$out'"
out=$(q "ALTER INDEX v_idx SET (RETAIN HISTORY FOR '20m')") || fail "alter index: $out"
out=$(q "ALTER TABLE plain RESET (RETAIN HISTORY)") || fail "alter reset: $out"
out=$(q "SELECT count(*) FROM plain AS OF $t3")
[[ "$out" == *"could not find a valid timestamp"* ]] || fail "plain AS OF t3 after RESET: '$out'"
out=$(psql -X -q -A -t -c "BEGIN" -c "ALTER TABLE h SET (RETAIN HISTORY FOR '1m')" 2>&1)
[[ "$out" == *"cannot run inside a transaction block"* ]] || fail "ALTER in a block: '$out'"

# 5. Restart: the setting stays, the history starts again.
kill -TERM "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
"$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
  --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
FRESHET_PID=$!
wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || { e2e_fail $NAME "restart did not come up"; exit 1; }
out=$(q "SELECT count(*) FROM h AS OF $t2")
[[ "$out" == *"could not find a valid timestamp"* ]] || fail "h AS OF t2 after the restart: '$out'"
pause
t4=$(now)
pause
q "INSERT INTO h VALUES (5)" >/dev/null
out=$(q "SELECT string_agg(a::text, ',' ORDER BY a) FROM h AS OF $t4")
[[ "$out" == 2 ]] || fail "h AS OF t4 after the restart: '$out'"
for i in 1 2 3 4 5 6 7 8 9 10; do
  out=$(q "SELECT c FROM mv" 2>&1)
  [[ "$out" == 3 ]] && break
  sleep 1
done
pause
t5=$(now)
pause
q "INSERT INTO plain VALUES (50)" >/dev/null
out=$(q "SELECT c FROM mv AS OF $t5")
[[ "$out" == 3 ]] || fail "mv AS OF t5 after the restart: '$out'"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
