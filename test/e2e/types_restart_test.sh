#!/usr/bin/env bash
# Types made by CREATE TYPE survive a restart (SIGTERM and kill -9): Materialize's named list
# types and composite types, table columns of them, a view over them, pg_type's rows and the
# dependencies that refuse DROP TYPE. A named type is known in the process by an interned
# index (src/common/types.hpp); the catalog stores it as a kType object and every column's type
# as a tree with the named types' oids and names (src/server/persist.cpp). After the restart
# other list and record types are interned first, so the indexes differ from the first
# process's. The SQL behaviour itself: test/sql/composite_types.slt and
# test/sql/materialize_dialect/named_lists.slt.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=types_restart
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: Materialize's named lists, and restarts a Freshet server"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }
restart() { restart_freshet "$1" || { e2e_fail $NAME "restart after SIG$1 did not come up"; exit 1; }; }

out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE TYPE int4_list AS LIST (ELEMENT TYPE = int4);
CREATE TYPE int4_list_list AS LIST (ELEMENT TYPE = int4_list);
CREATE TYPE num2_list AS LIST (ELEMENT TYPE = numeric(38,2));
CREATE SCHEMA other;
CREATE TYPE other.pair AS (a int, b text);
CREATE TABLE t (k int, l int4_list, ll int4_list_list, p other.pair, n num2_list);
INSERT INTO t VALUES (1, '{1,2}', '{{3},{4,5}}', (7, 'x y'), '{1.234}'), (2, NULL, NULL, NULL, NULL);
CREATE VIEW v AS SELECT k, l, p, to_jsonb(p) AS j FROM t;
SQL
) || fail "setup: $out"

check() {  # check WHEN
  local out
  out=$(q "SELECT k, l::text, ll::text, p::text, n::text, pg_typeof(l), pg_typeof(ll), pg_typeof(p), pg_typeof(n) FROM t ORDER BY k")
  [[ "$out" == $'1 {1,2} {{3},{4,5}} (7,"x y") {1.23} int4_list int4_list_list other.pair num2_list\n2     int4_list int4_list_list other.pair num2_list' ]] ||
    fail "$1: t is '$out'"
  out=$(q "SELECT k, l::text, pg_typeof(p), j FROM v ORDER BY k")
  [[ "$out" == $'1 {1,2} other.pair {"a": 7, "b": "x y"}\n2  other.pair ' ]] || fail "$1: v is '$out'"
  out=$(q "SELECT typname, typtype FROM pg_type WHERE typname IN ('int4_list', 'int4_list_list', 'num2_list', 'pair') ORDER BY typname")
  [[ "$out" == $'int4_list b\nint4_list_list b\nnum2_list b\npair c' ]] || fail "$1: pg_type says '$out'"
  out=$(q "SELECT pg_typeof('{{1}}'::int4_list_list), pg_typeof(ROW(1, 'a')::other.pair)")
  [[ "$out" == "int4_list_list other.pair" ]] || fail "$1: new values are '$out'"
  out=$(q "DROP TYPE int4_list")
  [[ "$out" == *"cannot drop type int4_list because other objects depend on it"* ]] || fail "$1: DROP TYPE int4_list gave '$out'"
  out=$(q "DROP TYPE other.pair")
  [[ "$out" == *"cannot drop type pair because other objects depend on it"* ]] || fail "$1: DROP TYPE other.pair gave '$out'"
}
check "before the restart"
restart TERM
# Other list and record types first, so the interned indexes differ from the first process's.
out=$(q "SELECT (LIST[1.5::float8])::text, (LIST[LIST['x']])::text, ROW(1.5, 'q')::text") || fail "after the restart: $out"
check "after SIGTERM"
out=$(q "INSERT INTO t VALUES (3, '{9}', '{{9}}', (9, 'n'), '{9.999}')") || fail "insert: $out"
restart KILL
out=$(q "SELECT l::text, ll::text, p::text, n::text FROM t WHERE k = 3")
[[ "$out" == "{9} {{9}} (9,n) {10.00}" ]] || fail "after kill -9: row 3 is '$out'"
out=$(q "DROP VIEW v; DROP TABLE t; DROP TYPE int4_list_list; DROP TYPE int4_list; DROP TYPE other.pair; DROP TYPE num2_list")
[[ -z "$out" ]] || fail "drops: '$out'"
out=$(q "SELECT count(*) FROM pg_type WHERE typname IN ('int4_list', 'int4_list_list', 'num2_list', 'pair')")
[[ "$out" == 0 ]] || fail "after the drops: pg_type has '$out' rows"
restart TERM
out=$(q "SELECT count(*) FROM pg_type WHERE typname IN ('int4_list', 'int4_list_list', 'num2_list', 'pair')")
[[ "$out" == 0 ]] || fail "after the drops and a restart: pg_type has '$out' rows"
freshet_alive || fail "freshet died"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
