#!/usr/bin/env bash
# Materialize's list types survive a restart (SIGTERM and kill -9): views of lists and table
# columns of lists. A list type is known in the
# process by an interned index (src/common/types.hpp); the catalog stores a list column as its
# element type and depth (src/server/persist.cpp), and the views are bound again from their
# SQL. The views here are created so that the indexes differ from the ones a fresh process
# hands out first (a text list first, then int lists); after the restart they are created in
# the other order. The SQL behaviour itself is test/sql/materialize_dialect/lists.slt.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=lists_restart
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: Materialize's lists, and restarts a Freshet server"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }
restart() { restart_freshet "$1" || { e2e_fail $NAME "restart after SIG$1 did not come up"; exit 1; }; }

out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE TABLE t (g int, v int, s text);
INSERT INTO t VALUES (1, 10, 'a b'), (1, 20, NULL), (2, 30, 'c');
CREATE VIEW names AS SELECT g, list_agg(s ORDER BY v) AS ss FROM t GROUP BY g;
CREATE MATERIALIZED VIEW nums AS
  SELECT g, list_agg(v ORDER BY v) AS vs, LIST[LIST[g], LIST[g, v]] AS nested FROM t GROUP BY g, v;
CREATE INDEX nums_idx ON nums (g);
CREATE TABLE tl (k int, a int list, b text list list);
INSERT INTO tl VALUES (1, LIST[1, 2], '{{a},{"b c",NULL}}'), (2, NULL, '{}');
SQL
) || fail "setup: $out"

check() {  # check WHEN
  local out
  out=$(q "SELECT g, ss::text FROM names ORDER BY g")
  [[ "$out" == $'1 {"a b",NULL}\n2 {c}' ]] || fail "$1: names is '$out'"
  out=$(q "SELECT g, vs::text, nested::text FROM nums ORDER BY g, vs[1]")
  [[ "$out" == $'1 {10} {{1},{1,10}}\n1 {20} {{1},{1,20}}\n2 {30} {{2},{2,30}}' ]] || fail "$1: nums is '$out'"
  out=$(q "SELECT pg_typeof(vs), pg_typeof(nested) FROM nums WHERE g = 2")
  [[ "$out" == "integer list integer list list" ]] || fail "$1: types are '$out'"
  out=$(q "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'nums' AND a.attnum = 2")
  [[ "$out" == "vs text" ]] || fail "$1: pg_attribute says '$out'"
  # A table's list columns: the catalog keeps their types, the collection their values.
  out=$(q "SELECT k, a::text, b::text, pg_typeof(a), pg_typeof(b) FROM tl ORDER BY k")
  [[ "$out" == $'1 {1,2} {{a},{"b c",NULL}} integer list text list list\n2  {} integer list text list list' ]] ||
    fail "$1: tl is '$out'"
}
check "before the restart"
restart TERM
# Other list types first, so the interned indexes differ from the first process's.
out=$(q "SELECT (LIST[1.5::float8])::text, (LIST[LIST['x']])::text") || fail "after the restart: $out"
check "after SIGTERM"
out=$(q "INSERT INTO t VALUES (2, 5, 'd')") || fail "insert: $out"
out=$(q "SELECT vs::text FROM nums WHERE g = 2 ORDER BY vs[1]")
[[ "$out" == $'{5}\n{30}' ]] || fail "after the insert: nums is '$out'"
out=$(q "SELECT ss::text FROM names WHERE g = 2")
[[ "$out" == "{d,c}" ]] || fail "after the insert: names is '$out'"
restart KILL
out=$(q "SELECT ss::text FROM names WHERE g = 2")
[[ "$out" == "{d,c}" ]] || fail "after kill -9: names is '$out'"
out=$(q "SELECT count(*) FROM nums")
[[ "$out" == 4 ]] || fail "after kill -9: nums has '$out' rows"
freshet_alive || fail "freshet died"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
