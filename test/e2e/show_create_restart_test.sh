#!/usr/bin/env bash
# SHOW CREATE under --sql-dialect materialize prints the same text after a restart (SIGTERM and
# kill -9): Materialize's create_sql is printed from the statement as written, which the catalog
# stores with the view (ObjectInfo::source_sql, src/server/persist.cpp) and replays at start-up;
# `OPERATOR(+)` is only in that text. A view whose references a rename rewrote is printed from
# its stored query, and one that names a renamed schema by the new name. The text itself:
# test/sql/materialize_dialect/mzonly_show_create.slt, mzonly_schema_rename.slt.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=show_create_restart
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: SHOW CREATE is Materialize's, and restarts a Freshet server"; exit 0; }
FRESHET_EXTRA_ARGS="${FRESHET_EXTRA_ARGS:-} --sql-dialect materialize"
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }
restart() { restart_freshet "$1" || { e2e_fail $NAME "restart after SIG$1 did not come up"; exit 1; }; }

out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE TABLE t1wide (f1 int NOT NULL, f2 text DEFAULT 'x', PRIMARY KEY (f1));
CREATE TABLE t2wide (f1 int, f2 int);
CREATE VIEW adder AS SELECT 2 OPERATOR(+) 2;
CREATE VIEW v1wide AS SELECT x.* FROM t1wide JOIN t2wide USING (f1) AS x WHERE x.f1 = 3;
CREATE MATERIALIZED VIEW mv AS SELECT f1, count(*) FROM t2wide GROUP BY f1;
CREATE INDEX mv_f1 ON mv (f1);
CREATE VIEW to_rename AS SELECT f2 FROM t2wide WHERE f1 OPERATOR(pg_catalog.>) 1;
SQL
) || fail "setup: $out"

expect_adder='freshet.public.adder|CREATE VIEW freshet.public.adder AS SELECT 2 OPERATOR(+) 2;'
expect_v1=$'freshet.public.v1wide|CREATE VIEW\n    freshet.public.v1wide\n    AS\n        SELECT x.*\n        FROM freshet.public.t1wide JOIN freshet.public.t2wide USING(f1) AS x\n        WHERE x.f1 = 3;'
expect_mv=$'freshet.public.mv|CREATE MATERIALIZED VIEW freshet.public.mv\n    IN CLUSTER quickstart\n    WITH (REFRESH = ON COMMIT)\n    AS SELECT f1, pg_catalog.count(*) FROM freshet.public.t2wide GROUP BY f1;'
expect_idx='freshet.public.mv_f1|CREATE INDEX mv_f1 IN CLUSTER quickstart ON freshet.public.mv (f1);'
expect_t1=$'freshet.public.t1wide|CREATE TABLE\n    freshet.public.t1wide\n        (f1 pg_catalog.int4 NOT NULL, f2 pg_catalog.text DEFAULT \'x\', PRIMARY KEY (f1));'
check() {  # check WHEN
  local out
  out=$(q "SHOW CREATE VIEW adder"); [[ "$out" == "$expect_adder" ]] || fail "$1: adder is '$out'"
  out=$(q "SHOW CREATE VIEW v1wide"); [[ "$out" == "$expect_v1" ]] || fail "$1: v1wide is '$out'"
  out=$(q "SHOW CREATE MATERIALIZED VIEW mv"); [[ "$out" == "$expect_mv" ]] || fail "$1: mv is '$out'"
  out=$(q "SHOW CREATE INDEX mv_f1"); [[ "$out" == "$expect_idx" ]] || fail "$1: mv_f1 is '$out'"
  out=$(q "SHOW CREATE TABLE t1wide"); [[ "$out" == "$expect_t1" ]] || fail "$1: t1wide is '$out'"
}
check "before the restart"
out=$(q "SHOW CREATE VIEW to_rename")
[[ "$out" == $'freshet.public.to_rename|CREATE VIEW\n    freshet.public.to_rename\n    AS SELECT f2 FROM freshet.public.t2wide WHERE f1 OPERATOR(pg_catalog.>) 1;' ]] ||
  fail "to_rename is '$out'"
restart TERM
check "after SIGTERM"
# A rename rewrites the view's stored query (deparsed: the operator's own spelling); its text
# names the new table after a restart too.
out=$(q "ALTER TABLE t2wide RENAME TO t3wide") || fail "rename: $out"
expect_mv=${expect_mv//t2wide/t3wide}
expect_v1=${expect_v1//t2wide/t3wide}
# ALTER SCHEMA ... RENAME rewrites the views that name the schema (as Materialize's
# rename.slt): their text and what they read follow it across a restart.
out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE SCHEMA s1;
CREATE TABLE s1.st (a int);
INSERT INTO s1.st VALUES (5);
CREATE VIEW sv AS SELECT a FROM s1.st;
CREATE MATERIALIZED VIEW smv AS SELECT a FROM s1.st;
ALTER SCHEMA s1 RENAME TO s2;
SQL
) || fail "schema rename: $out"
restart KILL
check "after kill -9"
out=$(q "SHOW CREATE VIEW to_rename")
[[ "$out" == $'freshet.public.to_rename|CREATE VIEW\n    freshet.public.to_rename\n    AS SELECT f2 FROM freshet.public.t3wide WHERE f1 OPERATOR(pg_catalog.>) 1;' ]] ||
  fail "after the rename and kill -9: to_rename is '$out'"
out=$(q "SHOW CREATE VIEW sv")
[[ "$out" == 'freshet.public.sv|CREATE VIEW freshet.public.sv AS SELECT a FROM freshet.s2.st;' ]] ||
  fail "after the schema rename and kill -9: sv is '$out'"
out=$(q "SELECT a FROM sv"); [[ "$out" == 5 ]] || fail "after the schema rename and kill -9: sv reads '$out'"
out=$(q "INSERT INTO s2.st VALUES (6)") || fail "insert after the schema rename: $out"
out=$(q "SELECT a FROM smv ORDER BY a" | tr '\n' ' '); [[ "$out" == "5 6 " ]] || fail "after the schema rename and kill -9: smv reads '$out'"
freshet_alive || fail "freshet died"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
