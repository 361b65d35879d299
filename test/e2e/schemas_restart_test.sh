#!/usr/bin/env bash
# CREATE SCHEMA / CREATE DATABASE and objects in a schema survive a restart (SIGTERM and
# kill -9): tables keep their rows, a view and a materialized view created under another
# search_path keep resolving their names with it, an index on the view is rebuilt; a schema
# created and rolled back in a block stays absent; DROP SCHEMA ... CASCADE after the restart
# removes everything for good. Materialize's ids of schemas and databases (mz_schemas,
# mz_databases) stay the same through a rename and the restarts. The SQL behaviour itself is
# test/sql/schemas.slt and test/sql/materialize_dialect/mz_schemas.slt.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=schemas_restart
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: restarts a Freshet server"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }
restart() { restart_freshet "$1" || { e2e_fail $NAME "restart after SIG$1 did not come up"; exit 1; }; }

out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE SCHEMA rs;
CREATE TABLE rs.t (x int);
INSERT INTO rs.t VALUES (1), (2);
CREATE TABLE t (x int);
INSERT INTO t VALUES (100);
SET search_path = rs;
CREATE VIEW rv AS SELECT sum(x) AS s FROM t;
CREATE MATERIALIZED VIEW rmv AS SELECT count(*) AS c FROM t;
CREATE INDEX rv_idx ON rv (s);
RESET search_path;
CREATE DATABASE rdb;
BEGIN;
CREATE SCHEMA gone;
CREATE TABLE gone.t (x int);
ROLLBACK;
CREATE SCHEMA ren;
ALTER SCHEMA ren RENAME TO renamed;
SQL
) || fail "setup: $out"

n=3
for how in TERM KILL; do
  restart "$how"
  out=$(q "SELECT s FROM rs.rv")
  [[ "$out" == "$((n * (n - 1) / 2))" ]] || fail "after SIG$how: rs.rv is '$out'"
  out=$(q "SELECT c FROM rs.rmv")
  [[ "$out" == "$((n - 1))" ]] || fail "after SIG$how: rs.rmv is '$out'"
  out=$(q "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname IN ('rs', 'gone')")
  [[ "$out" == rs ]] || fail "after SIG$how: pg_namespace has '$out'"
  out=$(q "SELECT count(*) FROM pg_database WHERE datname = 'rdb'")
  [[ "$out" == 1 ]] || fail "after SIG$how: database rdb missing"
  out=$(q "SELECT schemaname FROM pg_indexes WHERE indexname = 'rv_idx'")
  [[ "$out" == rs ]] || fail "after SIG$how: index rv_idx in '$out'"
  # rs u9, rdb's own public schema u10, gone (rolled back) u11, ren u12.
  out=$(q "SELECT string_agg(name || '=' || id, ',' ORDER BY name) FROM mz_schemas WHERE id LIKE 'u%'")
  [[ "$out" == "public=u3,renamed=u12,rs=u9" ]] || fail "after SIG$how: mz_schemas has '$out'"
  out=$(q "SELECT string_agg(name || '=' || id, ',' ORDER BY name) FROM mz_databases")
  [[ "$out" == "freshet=u1,rdb=u2" ]] || fail "after SIG$how: mz_databases has '$out'"
  out=$(q "INSERT INTO rs.t VALUES ($n)") || fail "after SIG$how: insert: $out"
  n=$((n + 1))
done
out=$(q "SELECT s FROM rs.rv")
[[ "$out" == 10 ]] || fail "after the inserts: rs.rv is '$out'"
out=$(q "DROP SCHEMA rs") && fail "DROP SCHEMA without CASCADE accepted"
out=$(q "DROP SCHEMA rs CASCADE") || fail "drop schema cascade: $out"
out=$(q "DROP DATABASE rdb") || fail "drop database: $out"
out=$(q "CREATE SCHEMA later") || fail "create schema later: $out"
out=$(q "SELECT id FROM mz_schemas WHERE name = 'later'")
[[ "$out" == u13 ]] || fail "a schema created after the restarts is '$out', not u13"
restart TERM
out=$(q "SELECT count(*) FROM pg_class WHERE relname IN ('rv', 'rmv', 'rv_idx')")
[[ "$out" == 0 ]] || fail "after DROP SCHEMA CASCADE and a restart: $out objects left"
out=$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'rs'")
[[ "$out" == 0 ]] || fail "after DROP SCHEMA CASCADE and a restart: schema rs left"
out=$(q "SELECT count(*) FROM pg_database WHERE datname = 'rdb'")
[[ "$out" == 0 ]] || fail "after DROP DATABASE and a restart: database rdb left"
out=$(q "SELECT x FROM t")
[[ "$out" == 100 ]] || fail "public.t is '$out'"

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
