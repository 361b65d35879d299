#!/usr/bin/env bash
# COPY with real files and real clients: psql's \copy (text, csv with options, binary) through
# files on disk, COPY ... FROM STDIN from a file, a bad row (22P02 with the line, nothing
# loaded), COPY inside a transaction block (joins it; ROLLBACK undoes it), COPY (query) TO,
# and psycopg's cursor.copy(). Runs the same against PostgreSQL 15 (E2E_TARGET=postgres).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=copy
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
WORK=$(mktemp -d /tmp/freshet-copy.XXXXXX)
trap 'rm -rf "$WORK"; _e2e_cleanup' EXIT

fails=0
P=(psql -X -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h 127.0.0.1 -p "$PGPORT" -U freshet -d freshet)
# expect DESCRIPTION WANT CMD...: the command's output (stdout+stderr) must equal WANT.
expect() {
  local what=$1 want=$2; shift 2
  local got
  got=$("$@" 2>&1)
  if [[ "$got" == "$want" ]]; then echo "ok   $what"; else
    echo "FAIL $what: wanted:"; sed 's/^/     /' <<<"$want"; echo "     got:"; sed 's/^/     /' <<<"$got" | head -20
    fails=$((fails + 1))
  fi
}
# expect_match DESCRIPTION PATTERN CMD...: the output must match the extended regex.
expect_match() {
  local what=$1 pattern=$2; shift 2
  local got
  got=$("$@" 2>&1)
  if grep -Eq -- "$pattern" <<<"$got"; then echo "ok   $what"; else
    echo "FAIL $what: wanted /$pattern/, got:"; sed 's/^/     /' <<<"$got" | head -20
    fails=$((fails + 1))
  fi
}

"${P[@]}" -q -c "DROP TABLE IF EXISTS items, items2" >/dev/null 2>&1
"${P[@]}" -q -c "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), added date, note text DEFAULT 'none')"

# Text format from a file: escapes, NULL, tabs and newlines inside values.
printf '1\tkayak\t899.00\t2024-02-29\tfirst\n2\t\\N\t49.90\t\\N\tline\\none\\ttab\n3\tback\\\\slash\t0.00\t2024-01-01\t\\N\n' >"$WORK/items.txt"
expect "\\copy from a text file" "COPY 3" "${P[@]}" -c "\\copy items FROM '$WORK/items.txt'"
expect "\\copy to a text file round-trips" "" bash -c "$(printf '%q ' "${P[@]}") -q -c \"\\\\copy items TO '$WORK/out.txt'\" && cmp '$WORK/items.txt' '$WORK/out.txt'"

# CSV with a header, quoting, another delimiter, a column list (defaults for the rest).
cat >"$WORK/items.csv" <<'CSV'
id;name;price
4;"semi;colon";1.50
5;"say ""hi""";
6;"multi
line";2
CSV
expect "\\copy csv with HEADER, DELIMITER, a column list" "COPY 3" \
  "${P[@]}" -c "\\copy items (id, name, price) FROM '$WORK/items.csv' WITH (FORMAT csv, HEADER, DELIMITER ';')"
expect "defaults for the columns not listed" "4|none
5|none
6|none" "${P[@]}" -A -t -c "SELECT id, note FROM items WHERE id >= 4 ORDER BY id"
expect "csv out: quoting, NULL as empty, FORCE_QUOTE" 'id,name,price
4,semi;colon,"1.50"
5,"say ""hi""",
6,"multi
line","2.00"' "${P[@]}" -c "COPY (SELECT id, name, price FROM items WHERE id >= 4 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE (price))"

# Binary: out of one table into a file, into another table, compare.
"${P[@]}" -q -c "CREATE TABLE items2 (id int PRIMARY KEY, name text, price numeric(10,2), added date, note text)"
"${P[@]}" -q -c "\\copy items TO '$WORK/items.bin' WITH (FORMAT binary)" >/dev/null
expect "binary file starts with the PGCOPY signature" "PGCOPY" head -c 6 "$WORK/items.bin"
expect "\\copy binary into another table" "COPY 6" "${P[@]}" -c "\\copy items2 FROM '$WORK/items.bin' WITH (FORMAT binary)"
expect "binary round trip keeps every value" "0" "${P[@]}" -A -t -c \
  "SELECT count(*) FROM (SELECT * FROM items EXCEPT SELECT * FROM items2) d"

# COPY ... FROM STDIN with the data on psql's stdin (a file).
printf '7\tstdin\t7.00\t2024-03-01\tx\n' >"$WORK/one.txt"
expect "COPY FROM STDIN from a file" "COPY 1" "${P[@]}" -c "COPY items FROM STDIN" -f - <"$WORK/one.txt"

# A bad row: the error names the line and column, and nothing of the file is loaded.
printf '10\ta\t1\t2024-01-01\tx\n11\tb\t2\t2024-01-01\tx\n12\tc\tnot-a-number\t2024-01-01\tx\n' >"$WORK/bad.txt"
expect_match "bad value: 22P02 with CONTEXT naming line 3, column price" \
  'ERROR: +22P02: invalid input syntax for type numeric: "not-a-number".*CONTEXT: +COPY items, line 3, column price: "not-a-number"' \
  bash -c "$(printf '%q ' "${P[@]}") -c \"\\\\copy items FROM '$WORK/bad.txt'\" 2>&1 | tr '\n' ' '"
expect "nothing of the bad file was loaded" "0" "${P[@]}" -A -t -c "SELECT count(*) FROM items WHERE id >= 10"
printf '13\ta\n' >"$WORK/short.txt"
expect_match "missing column: 22P04" 'ERROR: +22P04: missing data for column "price"' \
  "${P[@]}" -c "\\copy items FROM '$WORK/short.txt'"
printf '8\tdup\t1\t2024-01-01\tx\n1\tdup\t1\t2024-01-01\tx\n' >"$WORK/dup.txt"
expect_match "duplicate key: 23505, nothing loaded" 'ERROR: +23505' "${P[@]}" -c "\\copy items FROM '$WORK/dup.txt'"
expect "the row before the duplicate was not loaded" "0" "${P[@]}" -A -t -c "SELECT count(*) FROM items WHERE id = 8"

# In a transaction block: the COPY joins the block; ROLLBACK undoes it, COMMIT keeps it.
printf '30\trolled back\t1\t2024-01-01\tx\n' >"$WORK/rb.txt"
expect "COPY in a block is visible in the block, gone after ROLLBACK" "1
0" "${P[@]}" -q -A -t -c "BEGIN" -c "\\copy items FROM '$WORK/rb.txt' WITH (FORMAT text)" -c "SELECT count(*) FROM items WHERE id = 30" -c "ROLLBACK" -c "SELECT count(*) FROM items WHERE id = 30"
printf '20\tin block\t1\t2024-01-01\tx\n' >"$WORK/block.txt"
expect "COPY in a committed block" "1" "${P[@]}" -q -A -t -c "BEGIN" -c "\\copy items FROM '$WORK/block.txt'" -c "COMMIT" -c "SELECT count(*) FROM items WHERE id = 20"
expect_match "an error in COPY aborts the block (25P02)" "ERROR: +25P02" \
  "${P[@]}" -v ON_ERROR_STOP=0 -c "BEGIN" -c "\\copy items FROM '$WORK/bad.txt'" -c "SELECT 1" -c "ROLLBACK"

# Options PostgreSQL refuses.
expect_match "QUOTE in text format: 0A000" "ERROR: +0A000: COPY quote available only in CSV mode" \
  "${P[@]}" -c "COPY items TO STDOUT (QUOTE '\"')"
expect_match "unknown option: 42601" 'ERROR: +42601: option "bogus" not recognized' \
  "${P[@]}" -c "COPY items TO STDOUT (bogus true)"
expect_match "unknown column: 42703" 'ERROR: +42703: column "nope" of relation "items" does not exist' \
  "${P[@]}" -c "COPY items (nope) FROM STDIN"

# A CancelRequest during COPY FROM STDIN: 57014, nothing loaded.
cat >"$WORK/cancel.py" <<'PY'
import psycopg, time
c = psycopg.connect(autocommit=True)
c.execute("CREATE TABLE cc (a int)")
try:
    with c.cursor().copy("COPY cc FROM STDIN") as cp:
        cp.write(b"1\n2\n")
        c.cancel()
        time.sleep(0.3)
        cp.write(b"3\n")
    print("no error")
except psycopg.errors.QueryCanceled:
    print("57014")
print(c.execute("SELECT count(*) FROM cc").fetchone()[0])
PY
expect "cancel during COPY FROM: 57014, nothing loaded" "57014
0" /usr/bin/python3 "$WORK/cancel.py"

# Freshet only: COPY FROM holds its rows until the end (all or nothing), within the query's
# memory budget: 53200 past it, nothing loaded.
if [[ "$E2E_TARGET" != postgres ]]; then
  awk 'BEGIN { for (i = 1000; i < 200000; i++) printf "%d\tbig\t1\t2024-01-01\t%s\n", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' >"$WORK/big.txt"
  expect_match "past the memory budget: 53200" "ERROR: +53200: COPY FROM exceeds the query memory budget" \
    "${P[@]}" -c "SET query_memory_budget_mb = 8" -c "\\copy items FROM '$WORK/big.txt'"
  expect "nothing of it loaded" "0" "${P[@]}" -A -t -c "SELECT count(*) FROM items WHERE name = 'big'"
  # COPY (SUBSCRIBE ...) TO STDOUT streams; when its client is killed the subscription ends
  # (its connection thread and the hangup watcher are gone).
  threads() { ls "/proc/$FRESHET_PID/task" | wc -l; }
  before=$(threads)
  cat >"$WORK/sub.py" <<'PY'
import os, psycopg
conn = psycopg.connect(autocommit=True)
with conn.cursor().copy("COPY (SUBSCRIBE (SELECT id, name FROM items WHERE id = 1)) TO STDOUT") as cp:
    for data in cp:
        print(bytes(data).decode().split("\t", 1)[1], end="", flush=True)
        os._exit(0)  # gone without a word: the socket closes with the process
PY
  expect "COPY (SUBSCRIBE) streams the snapshot" "1	1	kayak" /usr/bin/python3 "$WORK/sub.py"
  for _ in $(seq 1 30); do (( $(threads) <= before )) && break; sleep 0.1; done
  # At most as many threads as before (another thread of the server may have ended meanwhile).
  expect "the subscription ends with its client" "yes" bash -c "(( \$(ls /proc/$FRESHET_PID/task | wc -l) <= $before )) && echo yes || ls /proc/$FRESHET_PID/task | wc -l"
fi

# psycopg 3: cursor.copy() in text and binary; write_row/rows().
cat >"$WORK/pg3.py" <<'PY'
import psycopg
with psycopg.connect(autocommit=True) as c, c.cursor() as cur:
    with cur.copy("COPY items (id, name) FROM STDIN") as cp:
        for i in range(100, 110):
            cp.write_row((i, f"n\t{i}"))
    with cur.copy("COPY (SELECT id, name FROM items WHERE id >= 100 ORDER BY id) TO STDOUT (FORMAT binary)") as cp:
        cp.set_types(["int4", "text"])
        rows = list(cp.rows())
    assert rows == [(i, f"n\t{i}") for i in range(100, 110)], rows
    print(len(rows))
PY
expect "psycopg 3 cursor.copy text in, binary out" "10" /usr/bin/python3 "$WORK/pg3.py"

# COPY over the extended protocol (libpq's PQsendQueryParams: Parse/Bind/Execute), in and out,
# and an error there: the connection goes on.
cat >"$WORK/ext.py" <<'PY'
import psycopg
from psycopg import pq
c = psycopg.connect(autocommit=True)
c.execute("CREATE TABLE ext (a int, b text)")
pg = c.pgconn
def results():
    out = []
    while (r := pg.get_result()) is not None:
        out.append(r)
    return out
pg.send_query_params(b"COPY ext FROM STDIN (FORMAT csv)", None)
assert pg.get_result().status == pq.ExecStatus.COPY_IN
pg.put_copy_data(b"1,x\n2,y\n")
pg.put_copy_end()
print(results()[0].command_status.decode())
pg.send_query_params(b"COPY ext TO STDOUT", None)
assert pg.get_result().status == pq.ExecStatus.COPY_OUT
while (n := pg.get_copy_data(0))[0] > 0:
    print(bytes(n[1]).decode(), end="")
print(results()[0].command_status.decode())
pg.send_query_params(b"COPY ext FROM STDIN", None)
pg.get_result()
pg.put_copy_data(b"zz\tq\n")
pg.put_copy_end()
r = results()[0]
print(r.error_field(pq.DiagnosticField.SQLSTATE).decode(), r.error_field(pq.DiagnosticField.CONTEXT).decode())
print(c.execute("SELECT count(*) FROM ext").fetchone()[0])
PY
expect "COPY over the extended protocol" 'COPY 2
1	x
2	y
COPY 2
22P02 COPY ext, line 1, column a: "zz"
2' /usr/bin/python3 "$WORK/ext.py"

freshet_alive || { echo "FAIL freshet exited"; fails=$((fails + 1)); }
stop_freshet
if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
