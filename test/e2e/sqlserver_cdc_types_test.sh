#!/usr/bin/env bash
# SQL Server source type mapping, against the TDS emulator (which encodes every value in its
# TDS 7.4 wire type; FreeTDS decodes it): one table with a column of every supported SQL
# Server type, rows taken by the snapshot, inserted, updated (also to NULL) and deleted
# afterwards; Freshet's table must show each value as PostgreSQL prints the mapped type, and
# information_schema must show the mapped types.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
source "$E2E_LIB_DIR/sqlserver/ss_lib.sh"
NAME=sqlserver_cdc_types
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: sources are Freshet's)"; exit 0; fi
[[ -x "$SS_EMULATOR_BIN" ]] || { e2e_fail $NAME "emulator not built: $SS_EMULATOR_BIN"; exit 1; }
fail() { e2e_fail $NAME "$1"; exit 1; }
SD=$(cdc_mktemp sqlserver)
trap 'ss_kill_all "$SD"; cdc_cleanup' EXIT
ss_start "$SD" || fail "the emulator did not start"
ss_ctl "CREATE LOGIN freshet Fr3shet_pw db_owner" >/dev/null
ss_ctl "EXEC sys.sp_cdc_enable_db" >/dev/null
out=$(ss_ctl "CREATE TABLE dbo.all_types (id int PRIMARY KEY, c_bit bit, c_tiny tinyint, c_small smallint, c_big bigint, c_dec decimal(18,4), c_num numeric(38,10), c_money money, c_smallmoney smallmoney, c_float float, c_real real, c_char char(4), c_varchar varchar(20), c_nchar nchar(3), c_nvarchar nvarchar(30), c_date date, c_time time(3), c_datetime datetime, c_datetime2 datetime2(7), c_dto datetimeoffset(2), c_smalldt smalldatetime, c_guid uniqueidentifier, c_bin binary(4), c_varbin varbinary(10))") || fail "CREATE TABLE: $out"
ss_ctl "EXEC sys.sp_cdc_enable_table dbo.all_types" >/dev/null || fail "enable"
ROW1="1, 1, 255, -32768, 9223372036854775807, -12345678901234.5678, 1234567890123456789012345678.0123456789, 12.34, -7.5, 1.5, 2.25, 'ab', 'plain text', 'xy', 'héllo wörld ☃', '2024-02-29', '23:59:59.999', '2024-01-31 12:34:56.787', '2024-01-31 12:34:56.1234567', '2024-01-31 12:00:00.12+02:00', '2024-01-31 12:34:29', '6F9619FF-8B86-D011-B42D-00C04FC964FF', 0x01020304, 0xDEADBEEF"
ss_ctl "INSERT INTO dbo.all_types VALUES ($ROW1)" >/dev/null || fail "insert 1"

cdc_freshet_start "$(cdc_mktemp freshet)" || fail "freshet did not start"
fsql "CREATE SECRET sspw AS 'Fr3shet_pw';
CREATE CONNECTION ss TO SQL SERVER (HOST '127.0.0.1', PORT $SS_PORT, DATABASE 'shop', USER 'freshet', PASSWORD SECRET sspw, SSL MODE 'prefer');
CREATE SOURCE src FROM SQL SERVER CONNECTION ss FOR ALL TABLES;" >/dev/null || fail "CREATE SOURCE"

types=$(fsql "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'all_types'")
want="id integer,c_bit boolean,c_tiny smallint,c_small smallint,c_big bigint,c_dec numeric,c_num numeric,c_money numeric,c_smallmoney numeric,c_float double precision,c_real real,c_char character,c_varchar character varying,c_nchar character,c_nvarchar character varying,c_date date,c_time time without time zone,c_datetime timestamp without time zone,c_datetime2 timestamp without time zone,c_dto timestamp with time zone,c_smalldt timestamp without time zone,c_guid uuid,c_bin bytea,c_varbin bytea"
[[ "$types" == "$want" ]] || fail "mapped types: $types"
echo "  ok mapped types"

compare() {  # compare LABEL
  local max up ours i
  max=$(ss_ctl "MAXLSN"); max=${max#LSN }
  for i in $(seq 1 200); do
    pos=$(fsql "SELECT position FROM mz_source_statuses WHERE name = 'src'")
    [[ "$pos" > "$max" ]] && break
    sleep 0.05
  done
  # NULL shows as \N on both sides, so that NULL and '' differ.
  up=$(tail -n +2 <<<"$(ss_ctl "DUMP dbo.all_types")" | tr '\t' '|' | sort)
  ours=$(psql -X -q -A -t -P 'null=\N' -h 127.0.0.1 -p "$CDC_FRESHET_PORT" -U freshet -d freshet -c "SELECT * FROM all_types" | sort)
  if [[ "$up" != "$ours" ]]; then
    echo "MISMATCH (< freshet, > emulator):"; diff <(echo "$ours") <(echo "$up")
    fail "$1: values differ"
  fi
  echo "  ok $1: $(grep -c . <<<"$ours") rows equal"
}
compare "snapshot"
ss_ctl "INSERT INTO dbo.all_types VALUES (2, 0, 0, 1, -1, 0.0001, -0.5, -922337203685477.5808, 214748.3647, -1.5, 0.5, 'abcd', '', 'ñ', '', '0001-01-01', '00:00:00', '1753-01-01 00:00:00', '9999-12-31 23:59:59.9999994', '2024-06-30 23:30:00-05:30', '2079-06-06 23:59:00', '00000000-0000-0000-0000-000000000001', 0x00000000, 0x)" >/dev/null || fail "insert 2"
ss_ctl "INSERT INTO dbo.all_types (id) VALUES (3)" >/dev/null 2>&1 || ss_ctl "INSERT INTO dbo.all_types VALUES (3)" >/dev/null || fail "insert 3"
compare "streamed inserts (and a row of NULLs)"
ss_ctl "UPDATE dbo.all_types SET c_nvarchar = 'changed ✓', c_money = 0, c_dto = NULL WHERE id = 1; DELETE FROM dbo.all_types WHERE id = 2; UPDATE dbo.all_types SET c_bit = 1, c_guid = '11111111-2222-3333-4444-555555555555' WHERE id = 3" >/dev/null || fail "update"
compare "updates and a delete in one transaction"
[[ -n "${SS_TYPES_SHOW:-}" ]] && fsql "SELECT * FROM all_types"
e2e_pass $NAME
