#!/usr/bin/env bash
# SQL Server source errors, against the TDS emulator (test/sqlserver_emulator/README.md): each
# bad CREATE SOURCE fails with its SQLSTATE and a message naming the cause, leaves nothing
# behind, and a source that already runs keeps delivering. At CREATE SOURCE (08000): CDC not
# enabled on the database, on the table; SNAPSHOT isolation not allowed; SQL Server Agent not
# running; no primary key; an unsupported column type; a login without the permissions CDC
# needs (no db_owner; no SELECT; not in the capture instance's gating role); two capture instances; a missing table; an unreachable host;
# a wrong password. Statement errors: an unknown option (22023), no FOR TABLES (42601), a bad
# POLL INTERVAL (22023), an unknown connection option (22023). After start, in
# mz_source_statuses: a schema change (a new capture instance), SQL Server Agent stopped (and
# recovery when it starts again), a dropped capture instance.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
source "$E2E_LIB_DIR/sqlserver/ss_lib.sh"
NAME=sqlserver_cdc_errors
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: sources are Freshet's)"; exit 0; fi
[[ -x "$SS_EMULATOR_BIN" ]] || { e2e_fail $NAME "emulator not built: $SS_EMULATOR_BIN"; exit 1; }
bad=0
problem() { echo "PROBLEM: $1"; bad=1; }
fail() { e2e_fail $NAME "$1"; exit 1; }

# Emulator 1 ("good"): the running source. Emulator 2 ("bad"): the database-wide errors.
D1=$(cdc_mktemp sqlserver1)
D2=$(cdc_mktemp sqlserver2)
trap 'ss_kill_all "$D1"; ss_kill_all "$D2"; cdc_cleanup' EXIT
ss_start "$D1" || fail "emulator 1 did not start"
GOOD_PORT=$SS_PORT GOOD_CTL=$SS_CTL_PORT GOOD_PID=$SS_PID
SS_PORT= SS_CTL_PORT=
ss_start "$D2" || fail "emulator 2 did not start"
BAD_PORT=$SS_PORT BAD_CTL=$SS_CTL_PORT BAD_PID=$SS_PID
good() { SS_CTL_PORT=$GOOD_CTL ss_ctl "$1"; }
badctl() { SS_CTL_PORT=$BAD_CTL ss_ctl "$1"; }

SS_CTL_PORT=$GOOD_CTL ss_setup_sales >/dev/null || fail "setup 1"
good "CREATE TABLE dbo.evolve (id int PRIMARY KEY, v int)" >/dev/null
good "EXEC sys.sp_cdc_enable_table dbo.evolve" >/dev/null
good "CREATE TABLE dbo.dropme (id int PRIMARY KEY, v int)" >/dev/null
good "EXEC sys.sp_cdc_enable_table dbo.dropme" >/dev/null
good "INSERT INTO dbo.sales VALUES (1, 1, 1, '2026-12-01 00:00:00', 1, 1.00, 1.00)" >/dev/null
badctl "CREATE LOGIN freshet Fr3shet_pw db_owner" >/dev/null
badctl "CREATE LOGIN weak weak_pw" >/dev/null
badctl "CREATE LOGIN cdconly cdc_pw cdc" >/dev/null
badctl "CREATE LOGIN gated gated_pw cdc select" >/dev/null
badctl "CREATE TABLE dbo.t (id int PRIMARY KEY, v nvarchar(20))" >/dev/null
badctl "INSERT INTO dbo.t VALUES (1, 'x')" >/dev/null

FD=$(cdc_mktemp freshet)
cdc_freshet_start "$FD" || fail "freshet did not start"
fsql "CREATE SECRET sspw AS 'Fr3shet_pw'; CREATE SECRET wrongpw AS 'nope'; CREATE SECRET weakpw AS 'weak_pw'; CREATE SECRET cdcpw AS 'cdc_pw'; CREATE SECRET gatedpw AS 'gated_pw';
CREATE CONNECTION good TO SQL SERVER (HOST '127.0.0.1', PORT $GOOD_PORT, DATABASE 'shop', USER 'freshet', PASSWORD SECRET sspw);
CREATE CONNECTION c_bad TO SQL SERVER (HOST '127.0.0.1', PORT $BAD_PORT, DATABASE 'shop', USER 'freshet', PASSWORD SECRET sspw);
CREATE CONNECTION c_wrongpw TO SQL SERVER (HOST '127.0.0.1', PORT $GOOD_PORT, DATABASE 'shop', USER 'freshet', PASSWORD SECRET wrongpw);
CREATE CONNECTION c_weak TO SQL SERVER (HOST '127.0.0.1', PORT $BAD_PORT, DATABASE 'shop', USER 'weak', PASSWORD SECRET weakpw);
CREATE CONNECTION c_cdconly TO SQL SERVER (HOST '127.0.0.1', PORT $BAD_PORT, DATABASE 'shop', USER 'cdconly', PASSWORD SECRET cdcpw);
CREATE CONNECTION c_gated TO SQL SERVER (HOST '127.0.0.1', PORT $BAD_PORT, DATABASE 'shop', USER 'gated', PASSWORD SECRET gatedpw);
CREATE CONNECTION nowhere TO SQL SERVER (HOST '127.0.0.1', PORT $(free_port), DATABASE 'shop', USER 'freshet', PASSWORD SECRET sspw);" >/dev/null ||
  fail "CREATE SECRET/CONNECTION"
fsql "CREATE SOURCE goodsrc FROM SQL SERVER CONNECTION good FOR TABLES (dbo.sales)" >/dev/null || fail "CREATE SOURCE goodsrc"
fsql "CREATE MATERIALIZED VIEW good_n AS SELECT count(*) AS n FROM sales" >/dev/null || fail "CREATE MATERIALIZED VIEW"
next_id=2
good_still_works() {
  good "INSERT INTO dbo.sales VALUES ($next_id, 1, 1, '2026-12-01 00:00:00', 1, 1.00, 1.00)" >/dev/null
  local i
  for i in $(seq 1 200); do
    [[ "$(fsql "SELECT n FROM good_n" 2>/dev/null)" == "$next_id" ]] && { next_id=$((next_id + 1)); return 0; }
    sleep 0.05
  done
  problem "after $1: the running source did not deliver row $next_id (good_n = $(fsql "SELECT n FROM good_n" 2>&1))"
  return 1
}
good_still_works "start"

# expect_create_error LABEL SQLSTATE REGEX SQL
expect_create_error() {
  local label=$1 state=$2 re=$3 sql=$4 out msg
  out=$(fsql_err "$sql")
  local rc=$?
  msg=$(echo "$out" | grep -m1 '^ERROR')
  if ((rc == 0)); then problem "$label: CREATE SOURCE succeeded"; fsql "DROP SOURCE IF EXISTS bad CASCADE" >/dev/null 2>&1
  elif [[ "$msg" != "ERROR:  $state:"* ]]; then problem "$label: expected SQLSTATE $state, got: $out"
  elif ! [[ "$msg" =~ $re ]]; then problem "$label: message does not match /$re/: $msg"
  else echo "  ok $label: $msg"; fi
  cdc_freshet_alive || fail "freshet died after $label"
  [[ -z "$(fsql "SELECT name FROM mz_source_statuses WHERE name = 'bad'")" ]] || problem "$label: failed source left in mz_source_statuses"
  [[ -z "$(fsql "SELECT 1 FROM mz_tables WHERE name = 't'" 2>/dev/null)" ]] || problem "$label: table t left behind"
  good_still_works "$label"
}
SRC="CREATE SOURCE bad FROM SQL SERVER CONNECTION"

expect_create_error "wrong password" 08000 "login failed for user 'freshet'.*wrong password" "$SRC c_wrongpw FOR ALL TABLES"
expect_create_error "unreachable host" 08000 "cannot connect to 127\.0\.0\.1:[0-9]+" "$SRC nowhere FOR ALL TABLES"
expect_create_error "CDC not enabled on the database" 08000 "change data capture is not enabled on database shop: run EXEC sys\.sp_cdc_enable_db" \
  "$SRC c_bad FOR TABLES (dbo.t)"
badctl "EXEC sys.sp_cdc_enable_db" >/dev/null
expect_create_error "CDC not enabled on the table" 08000 "change data capture is not enabled on table dbo\.t: run EXEC sys\.sp_cdc_enable_table" \
  "$SRC c_bad FOR TABLES (dbo.t)"
expect_create_error "no table enabled" 08000 "no table of database shop has change data capture enabled" "$SRC c_bad FOR ALL TABLES"
badctl "EXEC sys.sp_cdc_enable_table dbo.t" >/dev/null
expect_create_error "missing table" 08000 "table dbo\.nosuch does not exist" "$SRC c_bad FOR TABLES (dbo.nosuch)"
expect_create_error "login without db_owner" 08000 "user weak may not read the CDC metadata.*SELECT permission was denied on the object 'change_tables'.*db_owner" \
  "$SRC c_weak FOR TABLES (dbo.t)"
expect_create_error "login without SELECT" 08000 "user cdconly lacks the SELECT permission on dbo\.t" "$SRC c_cdconly FOR TABLES (dbo.t)"
badctl "CREATE TABLE dbo.g (id int PRIMARY KEY)" >/dev/null
badctl "EXEC sys.sp_cdc_enable_table dbo.g dbo_g cdc_reader" >/dev/null
expect_create_error "login outside the gating role" 08000 "user gated is not a member of cdc_reader, the gating role of capture instance dbo_g.*ALTER ROLE \[cdc_reader\] ADD MEMBER \[gated\]" \
  "$SRC c_gated FOR TABLES (dbo.g)"
badctl "ALTER DATABASE SET ALLOW_SNAPSHOT_ISOLATION OFF" >/dev/null
expect_create_error "SNAPSHOT isolation off" 08000 "SNAPSHOT isolation is not allowed in database shop.*ALLOW_SNAPSHOT_ISOLATION ON" "$SRC c_bad FOR TABLES (dbo.t)"
badctl "ALTER DATABASE SET ALLOW_SNAPSHOT_ISOLATION ON" >/dev/null
badctl "AGENT STOP" >/dev/null
expect_create_error "SQL Server Agent stopped" 08000 "SQL Server Agent is not running.*start SQL Server Agent" "$SRC c_bad FOR TABLES (dbo.t)"
badctl "AGENT START" >/dev/null
badctl "CREATE TABLE dbo.nopk (a int, b int)" >/dev/null
badctl "EXEC sys.sp_cdc_enable_table dbo.nopk" >/dev/null
expect_create_error "no primary key" 08000 "table dbo\.nopk has no primary key" "$SRC c_bad FOR TABLES (dbo.nopk)"
badctl "CREATE TABLE dbo.withxml (id int PRIMARY KEY, doc xml)" >/dev/null
badctl "EXEC sys.sp_cdc_enable_table dbo.withxml" >/dev/null
expect_create_error "unsupported type" 08000 "column dbo\.withxml\.doc has type xml, which a SQL Server source cannot capture" "$SRC c_bad FOR TABLES (dbo.withxml)"
badctl "CREATE TABLE dbo.twice (id int PRIMARY KEY)" >/dev/null
badctl "EXEC sys.sp_cdc_enable_table dbo.twice" >/dev/null
badctl "EXEC sys.sp_cdc_enable_table dbo.twice dbo_twice_v2" >/dev/null
expect_create_error "two capture instances" 08000 "table dbo\.twice has two capture instances \(dbo_twice, dbo_twice_v2\)" "$SRC c_bad FOR TABLES (dbo.twice)"
expect_create_error "unknown option" 22023 "unknown SQL Server source option FOO" "$SRC c_bad FOR TABLES (dbo.t) WITH (FOO = 1)"
expect_create_error "bad poll interval" 22023 "POLL INTERVAL must be between" "$SRC c_bad FOR TABLES (dbo.t) WITH (POLL INTERVAL '0ms')"
expect_create_error "no FOR TABLES" 42601 "needs FOR ALL TABLES or FOR TABLES" "$SRC c_bad"
out=$(fsql_err "CREATE CONNECTION c2 TO SQL SERVER (HOST 'x', BROKER 'y')")
[[ "$out" == *"ERROR:  22023:"*"unknown sql server connection option BROKER"* ]] && echo "  ok unknown connection option" || problem "unknown connection option: $out"

# The same login once in the role: the gated table is captured.
badctl "CREATE LOGIN gated gated_pw cdc select cdc_reader" >/dev/null
fsql "CREATE SOURCE gsrc FROM SQL SERVER CONNECTION c_gated FOR TABLES (dbo.g AS g)" >/dev/null || problem "CREATE SOURCE gsrc (member of the gating role)"
badctl "INSERT INTO dbo.g VALUES (7)" >/dev/null
for i in $(seq 1 100); do [[ "$(fsql "SELECT count(*) FROM g" 2>/dev/null)" == 1 ]] && break; sleep 0.05; done
[[ "$(fsql "SELECT count(*) FROM g")" == 1 ]] && echo "  ok a member of the gating role captures dbo.g" || problem "gated source did not deliver"

# After start: a working source on dbo.t of emulator 2 (TABLES renamed) and one on dbo.evolve /
# dbo.dropme of emulator 1; errors show in mz_source_statuses while goodsrc keeps working.
fsql "CREATE SOURCE s2 FROM SQL SERVER CONNECTION c_bad FOR TABLES (dbo.t AS t2)" >/dev/null || problem "CREATE SOURCE s2"
fsql "CREATE SOURCE evo FROM SQL SERVER CONNECTION good FOR TABLES (dbo.evolve, dbo.dropme)" >/dev/null || problem "CREATE SOURCE evo"
wait_status() {  # wait_status SOURCE STATE REGEX LABEL
  local i st err
  for i in $(seq 1 200); do
    IFS='|' read -r st err <<<"$(fsql "SELECT state, coalesce(last_error, '') FROM mz_source_statuses WHERE name = '$1'")"
    [[ "$st" == "$2" && "$err" =~ $3 ]] && { echo "  ok $4: $st ${err:0:160}"; return 0; }
    sleep 0.05
  done
  problem "$4: state '$st', error '$err' (expected $2 /$3/)"
}
badctl "AGENT STOP" >/dev/null
badctl "INSERT INTO dbo.t VALUES (2, 'y')" >/dev/null
wait_status s2 error "SQL Server Agent is not running.*sys\.fn_cdc_get_max_lsn\(\) does not advance" "agent stopped while running"
[[ "$(fsql "SELECT count(*) FROM t2")" == 1 ]] || problem "a change arrived while the agent was stopped"
badctl "AGENT START" >/dev/null
wait_status s2 running "^$" "agent started again"
for i in $(seq 1 100); do [[ "$(fsql "SELECT count(*) FROM t2")" == 2 ]] && break; sleep 0.05; done
[[ "$(fsql "SELECT count(*) FROM t2")" == 2 ]] && echo "  ok the change made while the agent was stopped arrived" || problem "t2 did not catch up"
good "ALTER TABLE dbo.evolve ADD w int" >/dev/null
good "EXEC sys.sp_cdc_enable_table dbo.evolve dbo_evolve_v2" >/dev/null
wait_status evo error "schema of dbo\.evolve changed upstream: a new capture instance dbo_evolve_v2.*recreate the source" "schema change (new capture instance)"
good_still_works "schema change"
fsql "DROP SOURCE evo CASCADE" >/dev/null || problem "DROP SOURCE evo"
fsql "CREATE SOURCE evo2 FROM SQL SERVER CONNECTION good FOR TABLES (dbo.dropme)" >/dev/null || problem "CREATE SOURCE evo2"
good "EXEC sys.sp_cdc_disable_table dbo_dropme" >/dev/null
wait_status evo2 error "capture instance dbo_dropme of dbo\.dropme was dropped upstream" "capture instance dropped"
good_still_works "capture instance dropped"
cdc_freshet_alive || fail "freshet died"
((bad == 0)) || fail "see PROBLEM lines"
e2e_pass $NAME
