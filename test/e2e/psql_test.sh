#!/usr/bin/env bash
# psql against freshet: \dt, \d, \l, queries, and an error shown with its SQLSTATE.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=psql
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }

fails=0
# expect DESCRIPTION PATTERN PSQL_ARGS... : psql output (stdout+stderr) must match PATTERN.
expect() {
  local what=$1 pattern=$2; shift 2
  local out
  out=$(psql -X -h 127.0.0.1 -p "$PGPORT" -U freshet -d freshet "$@" 2>&1)
  if grep -Eq -- "$pattern" <<<"$out"; then
    echo "ok   $what"
  else
    echo "FAIL $what: wanted /$pattern/, got:"; sed 's/^/     /' <<<"$out" | head -20
    fails=$((fails + 1))
  fi
}

expect "create table" "CREATE TABLE" -c "CREATE TABLE psql_items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))"
expect "insert" "INSERT 0 3" -c "INSERT INTO psql_items VALUES (1, 'kayak', 899.00), (2, 'paddle', 49.90), (3, 'tent', 320.00)"
expect "select (aligned)" "paddle +\| +49.90" -c "SELECT name, price FROM psql_items ORDER BY id"
expect "row count footer" "\(3 rows\)" -c "SELECT * FROM psql_items"
expect "aggregate (unaligned, tuples only)" "^1268.90$" -A -t -c "SELECT sum(price) FROM psql_items"
expect "\\dt lists the table" "public +\| psql_items +\| table" -c '\dt'
expect "\\d shows the columns" "name +\| text" -c '\d psql_items'
expect "\\d shows the types" "price +\| numeric\(10,2\)" -c '\d psql_items'
expect "\\l lists the database" "^ *freshet +\|" -c '\l'
expect "error with SQLSTATE (VERBOSITY verbose)" "ERROR: +42P01: relation \"no_such_table\" does not exist" \
  -c '\set VERBOSITY verbose' -c 'SELECT * FROM no_such_table'
expect "division by zero 22012" "ERROR: +22012" -c '\set VERBOSITY verbose' -c 'SELECT 1/0'
out=$(psql -X -h 127.0.0.1 -p "$PGPORT" -U freshet -d freshet -v ON_ERROR_STOP=1 -c 'SELEC 1' 2>&1); rc=$?
if [[ $rc -eq 1 && "$out" == *"syntax error"* ]]; then echo "ok   syntax error exits 1"; else echo "FAIL syntax error: rc=$rc $out"; fails=$((fails + 1)); fi
expect "multi-statement script" "^2$" -A -t -f - <<'SQL'
BEGIN;
INSERT INTO psql_items VALUES (4, 'rope', 12.00);
DELETE FROM psql_items WHERE id IN (1, 2, 3);
COMMIT;
SELECT count(*) + 1 FROM psql_items;
SQL
# Time zones: the session runs in UTC whatever PGTZ asks for at start-up; SET TimeZone takes
# zone names that are UTC (Etc/UTC) and refuses others; AT TIME ZONE converts with tzdata.
PGTZ=Europe/Paris expect "PGTZ at start-up: the session reports UTC" "^UTC$" -A -t -c "SHOW TimeZone"
expect "SET TimeZone 'Etc/UTC'" "^SET$" -c "SET TimeZone = 'Etc/UTC'"
expect "SET TimeZone to another zone is refused" "invalid value for parameter \"TimeZone\"" -c "SET TimeZone = 'America/New_York'"
expect "AT TIME ZONE with a zone name" "^2020-07-01 08:00:00$" -A -t \
  -c "SELECT timestamptz '2020-07-01 12:00+00' AT TIME ZONE 'America/New_York'"
expect "drop table" "DROP TABLE" -c "DROP TABLE psql_items"

freshet_alive || { echo "FAIL freshet exited"; fails=$((fails + 1)); }
stop_freshet
if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
