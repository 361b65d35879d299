#!/usr/bin/env bash
# Errors in views are data (issue 12, Materialize's model): an indexed view and a materialized
# view whose rows hit a division by zero answer 22012 while a row causing it exists — also after
# a restart (it used to answer 0 rows) — and work again as soon as that row is deleted, with no
# restart (it used to stay empty until a second restart). Other clients are served meanwhile.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=view_errors
BUGS=()
fail() { BUGS+=("$1"); echo "  FAIL: $1"; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
qv() { psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$1" 2>&1; }

if [[ "$E2E_TARGET" == postgres ]]; then e2e_pass "$NAME (skipped: Freshet only)"; exit 0; fi
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
LOG2="$FRESHET_DATA_DIR/freshet2.log"
restart() {
  kill "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
  "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$LOG2" 2>&1 &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "restart failed: $(tail -3 "$LOG2")"
}
expect_error() {  # label
  local out
  out=$(qv "SELECT a, q FROM v ORDER BY a") && fail "$1: the indexed view answered: $out"
  [[ "$out" == *22012* ]] || fail "$1: the indexed view: want 22012, got: $out"
  out=$(qv "SELECT a, q FROM v WHERE a = 1") && fail "$1: a lookup in the index answered: $out"
  [[ "$out" == *22012* ]] || fail "$1: index lookup: want 22012, got: $out"
  out=$(qv "SELECT s FROM mv") && fail "$1: the materialized view answered: $out"
  [[ "$out" == *22012* ]] || fail "$1: the materialized view: want 22012, got: $out"
  out=$(q "SELECT count(*) FROM t")
  [[ "$out" =~ ^[0-9]+$ ]] || fail "$1: the table itself: $out"
  out=$(psql -X -q -A -t -c "SELECT 6 * 7" 2>&1)
  [[ "$out" == 42 ]] || fail "$1: another client: $out"
}
expect_rows() {  # label rows-of-v sum
  local out
  out=$(q "SELECT string_agg(a || ':' || q, ',' ORDER BY a) FROM v")
  [[ "$out" == "$2" ]] || fail "$1: the indexed view: want $2, got: $out"
  out=$(q "SELECT q FROM v WHERE a = 1")
  [[ "$out" == 1 ]] || fail "$1: index lookup: want 1, got: $out"
  out=$(q "SELECT s FROM mv")
  [[ "$out" == "$3" ]] || fail "$1: the materialized view: want $3, got: $out"
}

out=$(q "CREATE TABLE t (a int, b int)") || fail "create: $out"
out=$(q "INSERT INTO t VALUES (1, 1), (2, 1)") || fail "insert: $out"
out=$(q "CREATE VIEW v AS SELECT a, a / b AS q FROM t") || fail "view: $out"
out=$(q "CREATE INDEX v_a ON v (a)") || fail "index: $out"
out=$(q "CREATE MATERIALIZED VIEW mv AS SELECT sum(a / b) AS s FROM t") || fail "mv: $out"
expect_rows "before" "1:1,2:2" 3

out=$(q "INSERT INTO t VALUES (3, 0)") || fail "insert of the bad row: $out"
expect_error "with the bad row"
out=$(q "DELETE FROM t WHERE b = 0") || fail "delete: $out"
expect_rows "bad row deleted, same process" "1:1,2:2" 3

out=$(q "INSERT INTO t VALUES (3, 0)") || fail "insert of the bad row again: $out"
expect_error "bad row again"
restart
expect_error "after a restart with the bad row"
out=$(q "UPDATE t SET b = 3 WHERE b = 0") || fail "update: $out"
expect_rows "bad row fixed after the restart, no second restart" "1:1,2:2,3:1" 4
out=$(q "INSERT INTO t VALUES (8, 2)") || fail "insert after recovery: $out"
expect_rows "stepping again" "1:1,2:2,3:1,8:4" 8
restart
expect_rows "after another restart" "1:1,2:2,3:1,8:4" 8
grep -q "works again" "$LOG2" || fail "the recovery is not logged"
freshet_alive || fail "freshet died"

if ((${#BUGS[@]})); then
  echo "FAIL $NAME: ${#BUGS[@]} failed check(s):"; printf '  %s\n' "${BUGS[@]}"
  echo "--- log:"; tail -n 15 "$LOG2"; tail -n 10 "$FRESHET_LOG"
  exit 1
fi
e2e_pass $NAME
