#!/usr/bin/env bash
# ALTER TABLE | VIEW | MATERIALIZED VIEW ... RENAME TO of relations that views read survives a
# restart (SIGTERM and kill -9): the views' rewritten SQL text is stored in the same catalog
# batch as the rename, so after the restart the views, the materialized view and the indexed
# view are rebuilt over the renamed relations and keep following new rows; pg_get_viewdef
# shows the new names. A rename rolled back in a block leaves the stored text as it was.
# Materialize's ALTER SCHEMA ... SWAP WITH (in a block and outside) is kept too. The SQL
# behaviour itself is test/sql/rename.slt and test/sql/materialize_dialect/schema_swap.slt.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=rename_restart
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: restarts a Freshet server"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }
restart() { restart_freshet "$1" || { e2e_fail $NAME "restart after SIG$1 did not come up"; exit 1; }; }

out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE TABLE green_t (x int);
INSERT INTO green_t VALUES (1), (2);
CREATE VIEW green_v AS SELECT sum(green_t.x) AS s FROM green_t;
CREATE VIEW green_top AS SELECT s * 10 AS s10 FROM green_v;
CREATE MATERIALIZED VIEW green_mv AS SELECT count(*) AS c FROM public.green_t;
CREATE INDEX green_v_idx ON green_v (s);
BEGIN;
ALTER TABLE green_t RENAME TO blue_t;
ALTER VIEW green_v RENAME TO blue_v;
ALTER MATERIALIZED VIEW green_mv RENAME TO blue_mv;
COMMIT;
BEGIN;
ALTER TABLE blue_t RENAME TO red_t;
ROLLBACK;
INSERT INTO blue_t VALUES (3);
CREATE SCHEMA sa;
CREATE SCHEMA sb;
CREATE TABLE sa.t (x int);
INSERT INTO sa.t VALUES (7);
CREATE TABLE sb.t (x int);
ALTER SCHEMA sa SWAP WITH sb;
CREATE SCHEMA sc;
CREATE TABLE sc.u (y int);
BEGIN;
ALTER SCHEMA sa SWAP WITH sc;
COMMIT;
SQL
) || fail "setup: $out"

n=4
for how in TERM KILL; do
  restart "$how"
  out=$(q "SELECT s FROM blue_v")
  [[ "$out" == "$((n * (n - 1) / 2))" ]] || fail "after SIG$how: blue_v is '$out'"
  out=$(q "SELECT s10 FROM green_top")
  [[ "$out" == "$((n * (n - 1) * 5))" ]] || fail "after SIG$how: green_top is '$out'"
  out=$(q "SELECT c FROM blue_mv")
  [[ "$out" == "$((n - 1))" ]] || fail "after SIG$how: blue_mv is '$out'"
  out=$(q "SELECT pg_get_viewdef('green_top'::regclass) || ' / ' || pg_get_viewdef('blue_v'::regclass)")
  [[ "$out" == *blue_v*blue_t* && "$out" != *green_t* && "$out" != *red_t* ]] || fail "after SIG$how: definitions '$out'"
  out=$(q "SELECT tablename FROM pg_indexes WHERE indexname = 'green_v_idx'")
  [[ "$out" == blue_v ]] || fail "after SIG$how: index green_v_idx on '$out'"
  out=$(q "SELECT (SELECT x FROM sb.t) || ',' || (SELECT count(*) FROM sc.t) || ',' || (SELECT count(*) FROM sa.u)")
  [[ "$out" == "7,0,0" ]] || fail "after SIG$how: swapped schemas give '$out'"
  out=$(q "SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY table_schema) FROM information_schema.tables WHERE table_schema IN ('sa', 'sb', 'sc')")
  [[ "$out" == "sa.u,sb.t,sc.t" ]] || fail "after SIG$how: schemas hold '$out'"
  out=$(q "INSERT INTO blue_t VALUES ($n)") || fail "after SIG$how: insert: $out"
  n=$((n + 1))
done
out=$(q "SELECT s FROM blue_v")
[[ "$out" == 15 ]] || fail "after the inserts: blue_v is '$out'"
out=$(q "SELECT c FROM blue_mv")
[[ "$out" == 5 ]] || fail "after the inserts: blue_mv is '$out'"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
