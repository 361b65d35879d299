#!/usr/bin/env bash
# CDC bad input: wrong credentials, a missing publication, an unreachable host, an upstream
# with wal_level=replica, a table without a primary key or replica identity (PostgreSQL), and
# wrong credentials / a keyless table / a missing database (MariaDB). Each must fail
# CREATE SOURCE with SQLSTATE 08000 and a message that names the cause, leave nothing behind
# (the name can be used again, no slot upstream), and a source that is already running keeps
# delivering changes. Errors after start (TRUNCATE, a schema change upstream) must show in
# mz_source_statuses.last_error while the other source keeps working.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
NAME=cdc_errors
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: sources are Freshet's)"; exit 0; fi
cdc_trap
fail() { e2e_fail $NAME "$1"; exit 1; }
bad=0
problem() { echo "PROBLEM: $1"; bad=1; }

# Cluster "replica" first (wal_level=replica), then the main one (logical): two directories.
cdc_pg_start replica || fail "PostgreSQL (replica) did not start"
REPLICA_PORT=$CDC_PG_PORT REPLICA_DIR=$CDC_PG_DIR
trap 'cdc_cleanup_all' EXIT
cdc_cleanup_all() {
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$REPLICA_DIR/data' -m immediate stop >/dev/null 2>&1"
  cdc_cleanup
}
upg "CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION p FOR TABLE t;" >/dev/null
CDC_PG_PORT=
cdc_pg_start || fail "PostgreSQL did not start"
upg "CREATE TABLE good (id int PRIMARY KEY, v text); CREATE PUBLICATION pgood FOR TABLE good;
     CREATE TABLE nopk (a int, b text); CREATE PUBLICATION pnopk FOR TABLE nopk;
     CREATE TABLE other (id int PRIMARY KEY, v int); CREATE PUBLICATION pother FOR TABLE other;
     INSERT INTO good VALUES (1, 'a'); INSERT INTO other VALUES (1, 1);" >/dev/null || fail "upstream schema"

FD=$(cdc_mktemp freshet)
cdc_freshet_start "$FD" || fail "freshet did not start"
cdc_pg_connection || fail "CREATE CONNECTION"
fsql "CREATE SOURCE goodsrc FROM POSTGRES CONNECTION pg (PUBLICATION 'pgood') FOR ALL TABLES" >/dev/null || fail "CREATE SOURCE goodsrc"
fsql "CREATE MATERIALIZED VIEW good_n AS SELECT count(*) AS n FROM good" >/dev/null || fail "CREATE MATERIALIZED VIEW"
next_id=2
# The running source still works: a new upstream row shows up within 10 s.
good_still_works() {
  upg "INSERT INTO good VALUES ($next_id, 'x')" >/dev/null
  local i
  for i in $(seq 1 200); do
    [[ "$(fsql "SELECT n FROM good_n" 2>/dev/null)" == "$next_id" ]] && { next_id=$((next_id + 1)); return 0; }
    sleep 0.05
  done
  problem "after $1: the running source did not deliver row $next_id (good_n = $(fsql "SELECT n FROM good_n" 2>&1))"
  next_id=$(( $(upg "SELECT count(*) FROM good") + 1 ))
  return 1
}
good_still_works "start"

# expect_create_error LABEL SQLSTATE REGEX SQL
expect_create_error() {
  local label=$1 state=$2 re=$3 sql=$4 out t0 t1
  t0=$(date +%s%N)
  out=$(fsql_err "$sql")
  local rc=$?
  t1=$(date +%s%N)
  local msg; msg=$(echo "$out" | grep -m1 '^ERROR')
  if ((rc == 0)); then problem "$label: CREATE SOURCE succeeded"; fsql "DROP SOURCE IF EXISTS bad CASCADE" >/dev/null 2>&1
  elif [[ "$msg" != "ERROR:  $state:"* ]]; then problem "$label: expected SQLSTATE $state, got: $out"
  elif ! [[ "$msg" =~ $re ]]; then problem "$label: message does not match /$re/: $msg"
  else echo "  ok $label ($(( (t1 - t0) / 1000000 )) ms): $msg"; fi
  cdc_freshet_alive || fail "freshet died after $label"
  [[ -z "$(fsql "SELECT name FROM mz_source_statuses WHERE name = 'bad'")" ]] || problem "$label: failed source left in mz_source_statuses"
  good_still_works "$label"
}

fsql "CREATE SECRET wrongpw AS 'nope'" >/dev/null
fsql "CREATE CONNECTION pg_wrongpw TO POSTGRES (HOST '127.0.0.1', PORT $CDC_PG_PORT, DATABASE 'shop', USER 'repl', PASSWORD SECRET wrongpw, SSL MODE 'disable')" >/dev/null
expect_create_error "wrong password" 08000 "password authentication failed" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg_wrongpw (PUBLICATION 'pgood') FOR ALL TABLES"
fsql "CREATE CONNECTION pg_nouser TO POSTGRES (HOST '127.0.0.1', PORT $CDC_PG_PORT, DATABASE 'shop', USER 'nosuchuser', PASSWORD SECRET wrongpw, SSL MODE 'disable')" >/dev/null
expect_create_error "unknown user" 08000 "nosuchuser|authentication failed" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg_nouser (PUBLICATION 'pgood') FOR ALL TABLES"
expect_create_error "missing publication" 08000 "publication.*nosuch|nosuch.*publication" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg (PUBLICATION 'nosuch') FOR ALL TABLES"
closed_port=$(free_port)
fsql "CREATE CONNECTION pg_closed TO POSTGRES (HOST '127.0.0.1', PORT $closed_port, DATABASE 'shop', USER 'repl', PASSWORD SECRET pgpw, SSL MODE 'disable')" >/dev/null
expect_create_error "unreachable host (closed port)" 08000 "[Cc]onnection refused|could not connect" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg_closed (PUBLICATION 'pgood') FOR ALL TABLES"
fsql "CREATE CONNECTION pg_nohost TO POSTGRES (HOST 'no-such-host.invalid', DATABASE 'shop', USER 'repl', PASSWORD SECRET pgpw)" >/dev/null
expect_create_error "unknown host name" 08000 "no-such-host.invalid|translate host name|[Nn]ame or service" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg_nohost (PUBLICATION 'pgood') FOR ALL TABLES"
fsql "CREATE CONNECTION pg_replica TO POSTGRES (HOST '127.0.0.1', PORT $REPLICA_PORT, DATABASE 'shop', USER 'repl', PASSWORD SECRET pgpw, SSL MODE 'disable')" >/dev/null
expect_create_error "wal_level=replica" 08000 "wal_level" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg_replica (PUBLICATION 'p') FOR ALL TABLES"
expect_create_error "table without primary key" 08000 "nopk.*([Pp]rimary key|REPLICA IDENTITY)|([Pp]rimary key|REPLICA IDENTITY).*nopk" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg (PUBLICATION 'pnopk') FOR ALL TABLES"
upg "ALTER TABLE nopk REPLICA IDENTITY NOTHING" >/dev/null
expect_create_error "REPLICA IDENTITY NOTHING" 08000 "nopk" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg (PUBLICATION 'pnopk') FOR ALL TABLES"
expect_create_error "table not in the publication" 08000 "other|publication" \
  "CREATE SOURCE bad FROM POSTGRES CONNECTION pg (PUBLICATION 'pgood') FOR TABLES (other)"
slots=$(upg "SELECT string_agg(slot_name, ',') FROM pg_replication_slots")
[[ "$slots" != *,* ]] || problem "replication slots left upstream by failed CREATE SOURCE: $slots"

# The name of a failed source can be used: a good source named bad.
out=$(fsql "CREATE SOURCE bad FROM POSTGRES CONNECTION pg (PUBLICATION 'pother') FOR ALL TABLES" 2>&1) \
  || problem "CREATE SOURCE bad after the failures: $out"
# Errors after start: TRUNCATE of a captured table stops that source with last_error.
upg "INSERT INTO other VALUES (2, 2); TRUNCATE other; INSERT INTO other VALUES (3, 3)" >/dev/null
st=
for i in $(seq 1 200); do
  st=$(fsql "SELECT state, last_error FROM mz_source_statuses WHERE name = 'bad'")
  [[ "$st" == error\|* ]] && break; sleep 0.05
done
if [[ "$st" == error\|*[Tt][Rr][Uu][Nn][Cc][Aa][Tt]* ]]; then echo "  ok TRUNCATE upstream: $st"
else problem "TRUNCATE upstream: mz_source_statuses shows '$st'"; fi
good_still_works "TRUNCATE of another source's table"
fsql "DROP SOURCE bad CASCADE" >/dev/null || problem "DROP SOURCE of a failed source"

# A schema change of a captured table stops only that table (Materialize's subsource model):
# the source's other table goes on, reads of the stopped one answer 55000 naming the change
# (also after a restart), mz_source_statuses tells it, and the other sources are unaffected.
upg "CREATE TABLE alt (id int PRIMARY KEY, v int); CREATE TABLE sib (id int PRIMARY KEY);
     CREATE PUBLICATION ptwo FOR TABLE alt, sib; INSERT INTO alt VALUES (1, 1); INSERT INTO sib VALUES (1);" >/dev/null
fsql "CREATE SOURCE two FROM POSTGRES CONNECTION pg (PUBLICATION 'ptwo') FOR ALL TABLES" >/dev/null || problem "CREATE SOURCE two"
wait_rows() {  # table count
  local i
  for i in $(seq 1 200); do [[ "$(fsql "SELECT count(*) FROM $1" 2>/dev/null)" == "$2" ]] && return 0; sleep 0.05; done
  return 1
}
wait_rows sib 1 || problem "source two: sib has $(fsql "SELECT count(*) FROM sib" 2>&1) rows, want 1"
upg "ALTER TABLE alt ADD COLUMN w text; INSERT INTO alt VALUES (4, 4, 'w'); INSERT INTO sib VALUES (2)" >/dev/null
upg "INSERT INTO sib VALUES (3)" >/dev/null
if wait_rows sib 3; then echo "  ok the source's other table goes on after ALTER TABLE alt ADD COLUMN"
else problem "schema change upstream: sib has $(fsql "SELECT count(*) FROM sib" 2>&1) rows, want 3 (the whole source stopped?)"; fi
check_stopped() {  # label
  local out
  out=$(fsql_err "SELECT * FROM alt")
  if [[ "$out" == *"ERROR:  55000:"*alt*"changed upstream"* ]]; then echo "  ok $1: reading the stopped table: $(echo "$out" | grep -m1 ERROR)"
  else problem "$1: reading the stopped table: want 55000, got: $out"; fi
  out=$(fsql_err "SELECT v FROM alt WHERE id = 1")
  [[ "$out" == *"ERROR:  55000:"* ]] || problem "$1: a key lookup in the stopped table: $out"
  st=$(fsql "SELECT state, last_error FROM mz_source_statuses WHERE name = 'two'")
  if [[ "$st" == running\|*alt*changed\ upstream* ]]; then echo "  ok $1: mz_source_statuses: $st"
  else problem "$1: mz_source_statuses shows '$st'"; fi
}
check_stopped "schema change upstream"
good_still_works "schema change of another source's table"
cdc_freshet_stop
cdc_freshet_start "$FD" || fail "freshet did not restart"
check_stopped "after a restart"
upg "INSERT INTO sib VALUES (4)" >/dev/null
wait_rows sib 4 || problem "after a restart: sib has $(fsql "SELECT count(*) FROM sib" 2>&1) rows, want 4"
good_still_works "restart"
fsql "DROP SOURCE two CASCADE" >/dev/null || problem "DROP SOURCE of a source with a stopped table"

# MariaDB.
cdc_maria_start || fail "MariaDB did not start"
umy "CREATE TABLE items (id int PRIMARY KEY, v int); CREATE TABLE nokey (a int, b int);
     CREATE DATABASE keyed; CREATE TABLE keyed.k (id int PRIMARY KEY);" || fail "MariaDB schema"
fsql "CREATE CONNECTION my_wrongpw TO MYSQL (HOST '127.0.0.1', PORT $CDC_MY_PORT, USER 'repl', PASSWORD SECRET wrongpw, DATABASE 'shop')" >/dev/null
expect_create_error "MariaDB wrong password" 08000 "[Aa]ccess denied" \
  "CREATE SOURCE bad FROM MYSQL CONNECTION my_wrongpw FOR ALL TABLES"
cdc_maria_connection || fail "CREATE CONNECTION my"
expect_create_error "MariaDB table without primary key" 08000 "nokey" \
  "CREATE SOURCE bad FROM MYSQL CONNECTION my FOR ALL TABLES"
fsql "CREATE CONNECTION my_nodb TO MYSQL (HOST '127.0.0.1', PORT $CDC_MY_PORT, USER 'repl', PASSWORD SECRET mypw, DATABASE 'nosuchdb')" >/dev/null
expect_create_error "MariaDB missing database" 08000 "nosuchdb" \
  "CREATE SOURCE bad FROM MYSQL CONNECTION my_nodb FOR ALL TABLES"
fsql "CREATE CONNECTION my_closed TO MYSQL (HOST '127.0.0.1', PORT $closed_port, USER 'repl', PASSWORD SECRET mypw, DATABASE 'shop')" >/dev/null
expect_create_error "MariaDB unreachable" 08000 "[Cc]an't connect|[Cc]onnection refused|connect" \
  "CREATE SOURCE bad FROM MYSQL CONNECTION my_closed FOR ALL TABLES"

cdc_freshet_alive || fail "freshet exited"
[[ "$(fsql "SELECT 1")" == 1 ]] || fail "server does not answer"
((bad == 0)) || fail "some bad inputs were not handled as expected (see PROBLEM lines)"
e2e_pass $NAME
