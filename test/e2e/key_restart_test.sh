#!/usr/bin/env bash
# PRIMARY KEY and UNIQUE constraints refuse the same values after a restart (SIGTERM, then
# SIGKILL) as before it: values SQL calls equal are one key (numeric 1.5 and 1.50, float8
# -0.0 and 0.0, interval '1 day' and '24 hours'), a value written as before is refused, a
# deleted key can be inserted again, and NULLs never collide. server/recovery.cpp counts the
# keys it loads as server/write_path.cpp counts written ones (canonical_key_of).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=key_restart
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: restarts a Freshet server"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }

q "CREATE TABLE kr_num (k numeric PRIMARY KEY, u numeric UNIQUE)" >/dev/null
q "CREATE TABLE kr_flt (k float8 PRIMARY KEY)" >/dev/null
q "CREATE TABLE kr_txt (k text COLLATE \"C\" PRIMARY KEY, v varchar(10) UNIQUE)" >/dev/null
q "CREATE TABLE kr_ivl (k interval PRIMARY KEY)" >/dev/null
q "CREATE TABLE kr_int (k int, j int, PRIMARY KEY (k, j))" >/dev/null
q "INSERT INTO kr_num VALUES (1.5, 2.0), (7, NULL), (8, NULL)" >/dev/null
q "INSERT INTO kr_flt VALUES (-0.0), (2.5)" >/dev/null
q "INSERT INTO kr_txt VALUES ('a', 'x'), ('b', NULL)" >/dev/null
q "INSERT INTO kr_ivl VALUES ('1 day')" >/dev/null
q "INSERT INTO kr_int VALUES (1, 1), (1, 2)" >/dev/null

# Each statement must fail with 23505 (duplicate key), before and after every restart.
duplicates=(
  "INSERT INTO kr_num VALUES (1.50, 9)"
  "INSERT INTO kr_num VALUES (1.5, 9)"
  "INSERT INTO kr_num VALUES (10, 2)"
  "INSERT INTO kr_num VALUES (11, 2.000)"
  "INSERT INTO kr_flt VALUES (0.0)"
  "INSERT INTO kr_flt VALUES (-0.0)"
  "INSERT INTO kr_flt VALUES (2.5)"
  "INSERT INTO kr_txt VALUES ('a', 'y')"
  "INSERT INTO kr_txt VALUES ('c', 'x')"
  "INSERT INTO kr_ivl VALUES ('24 hours')"
  "INSERT INTO kr_ivl VALUES ('1 day')"
  "INSERT INTO kr_int VALUES (1, 2)"
)
check_duplicates() {
  local when=$1 stmt out
  for stmt in "${duplicates[@]}"; do
    out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "\\set VERBOSITY verbose" -c "$stmt" 2>&1)
    grep -q '23505' <<<"$out" || fail "$when: '$stmt' was not refused with 23505: $out"
  done
}

check_duplicates "before restart"
round=0
for how in TERM KILL; do
  round=$((round + 1))
  restart_freshet "$how" || { e2e_fail $NAME "restart after SIG$how did not come up"; exit 1; }
  check_duplicates "after SIG$how"
  # NULLs in a UNIQUE column never collide.
  out=$(q "INSERT INTO kr_num VALUES ($((20 + round)), NULL)") || fail "after SIG$how: a NULL u refused: $out"
  # A deleted key is free again, in any spelling of its value; and taken again after that.
  out=$(q "DELETE FROM kr_num WHERE k = 1.5") || fail "after SIG$how: delete: $out"
  out=$(q "INSERT INTO kr_num VALUES (1.500, 2.00)") || fail "after SIG$how: re-insert of a deleted key refused: $out"
  out=$(q "DELETE FROM kr_flt WHERE k = 0") || fail "after SIG$how: delete: $out"
  out=$(q "INSERT INTO kr_flt VALUES (0.0)") || fail "after SIG$how: re-insert of a deleted float key refused: $out"
  out=$(q "DELETE FROM kr_flt WHERE k = 0") || fail "after SIG$how: delete: $out"
  out=$(q "INSERT INTO kr_flt VALUES (-0.0)") || fail "after SIG$how: re-insert of -0.0 refused: $out"
  check_duplicates "after SIG$how and the re-inserts"
done

out=$(q "SELECT count(*) FROM kr_num")
[[ "$out" == 5 ]] || fail "kr_num: expected 5 rows, got $out"
out=$(q "SELECT count(*) FROM kr_flt")
[[ "$out" == 2 ]] || fail "kr_flt: expected 2 rows, got $out"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
