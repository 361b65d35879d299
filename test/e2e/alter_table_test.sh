#!/usr/bin/env bash
# ALTER TABLE ... ADD COLUMN / DROP COLUMN survives restarts and crashes:
#   1. after the rewrite, SIGTERM and kill -9: the rows keep their new shape (a key table, a
#      table without a key whose dropped column leaves equal rows), later writes follow it;
#   2. a crash between the catalog batch and the rows (FRESHET_FAULT=
#      alter_after_catalog_before_tables: the process ends there): start-up redoes the rows;
#   3. the table's Kafka topic read from the beginning with kcat (records stored before the
#      ALTER are left out: they do not fit the new schema); the server keeps serving.
# The SQL behaviour itself is test/sql/alter_table_columns.slt.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=alter_table
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: restarts a Freshet server"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }
serve() {
  FRESHET_FAULT="${1:-}" "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || { e2e_fail $NAME "start (fault '${1:-}') did not come up"; exit 1; }
}
restart() {
  kill -s "$1" "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
  serve
}

out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE TABLE k (a int PRIMARY KEY, b text, c int);
INSERT INTO k SELECT g, 'r' || g, g * 2 FROM generate_series(1, 1000) g;
CREATE TABLE bag (x int, y int);
INSERT INTO bag VALUES (1, 1), (1, 2), (2, 2);
ALTER TABLE k ADD COLUMN d text DEFAULT 'new', DROP COLUMN b;
ALTER TABLE bag DROP COLUMN y;
SQL
) || fail "setup: $out"

check() {  # $1: when; $2: rows of k expected; $3: count of bag's x=1
  out=$(q "SELECT count(*) || ',' || sum(c) || ',' || min(d) || ',' || max(d) FROM k")
  [[ "$out" == "$2" ]] || fail "$1: k gives '$out', expected '$2'"
  out=$(q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'k'")
  [[ "$out" == "a,c,d" ]] || fail "$1: k's columns are '$out'"
  out=$(q "SELECT count(*) FROM bag WHERE x = 1")
  [[ "$out" == "$3" ]] || fail "$1: bag has $out rows x = 1, expected $3"
}
check "before restarts" "1000,1001000,new,new" 2
restart TERM
check "after SIGTERM" "1000,1001000,new,new" 2
out=$(q "INSERT INTO k (a, c) VALUES (1001, 0)") || fail "insert after SIGTERM: $out"
out=$(q "DELETE FROM bag WHERE x = 1") || fail "delete after SIGTERM: $out"
restart KILL
check "after SIGKILL" "1001,1001000,new,new" 0
out=$(q "INSERT INTO k VALUES (1001, 1, 'x')" 2>&1)
[[ "$out" == *duplicate* ]] || fail "the key survives the rewrite: '$out'"

# 2. The crash between the catalog batch and the rows.
kill -s TERM "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
serve alter_after_catalog_before_tables
q "ALTER TABLE k ADD COLUMN e int DEFAULT 7" >/dev/null 2>&1
wait "$FRESHET_PID" 2>/dev/null
rc=$?
[[ $rc == 137 ]] || fail "the fault point did not end the server (exit $rc)"
serve
grep -q "redoing them" "$FRESHET_LOG" || fail "start-up did not say it redid the rows"
out=$(q "SELECT count(*) || ',' || sum(e) FROM k")
[[ "$out" == "1001,7007" ]] || fail "after the crash: k gives '$out'"
restart KILL
out=$(q "SELECT count(*) || ',' || sum(e) || ',' || count(*) FILTER (WHERE d = 'new') FROM k")
[[ "$out" == "1001,7007,1001" ]] || fail "after the crash and SIGKILL: k gives '$out'"

# 3. The table's topic from the beginning: only records of the current shape, and a live server.
if command -v kcat >/dev/null; then
  n=$(timeout 30 kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT" -C -t freshet.public.k -o beginning -e -q -f '%o\n' 2>>"$FRESHET_LOG" | wc -l)
  [[ "$n" -ge 1001 ]] || fail "kcat read $n records of k's topic, expected at least 1001"
  kill -0 "$FRESHET_PID" 2>/dev/null || fail "the server died while kcat read the topic"
  out=$(q "SELECT count(*) FROM k")
  [[ "$out" == 1001 ]] || fail "after kcat: '$out'"
else
  fail "kcat not installed (scripts/install-deps.sh)"
fi

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
