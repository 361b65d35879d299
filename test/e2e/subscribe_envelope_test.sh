#!/usr/bin/env bash
# SUBSCRIBE's output shapes (Materialize's; server/subscribe_output.hpp) through psycopg 3:
# ENVELOPE UPSERT (KEY (...)), ENVELOPE DEBEZIUM (KEY (...)) and WITHIN TIMESTAMP ORDER BY,
# over a snapshot and then an update, a delete and a key violation made by another session.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=subscribe_envelope
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
timeout 120 /usr/bin/python3 - "$FRESHET_PORT" <<'PY'
import sys, time, psycopg
port = int(sys.argv[1])
dsn = f"host=127.0.0.1 port={port} user=freshet dbname=freshet"
w = psycopg.connect(dsn, autocommit=True)
w.execute("CREATE TABLE t (a int, b int)")
w.execute("INSERT INTO t VALUES (1, 10), (2, 20)")
failed = False

def fetch_rows(cur, n):
    """Fetches until n rows arrived (10 s at most); returns them without mz_timestamp."""
    got, deadline = [], time.time() + 10
    while len(got) < n and time.time() < deadline:
        cur.execute("FETCH ALL c WITH (timeout = '1s')")
        got += [r[1:] for r in cur.fetchall()]
    return got

def check(what, got, want):
    global failed
    if got != want:
        print(f"FAIL {what}: got {got}, want {want}")
        failed = True
    else:
        print(f"ok {what}")

readers = {}
for env in ("UPSERT", "DEBEZIUM"):
    r = psycopg.connect(dsn)
    cur = r.cursor()
    cur.execute(f"DECLARE c CURSOR FOR SUBSCRIBE t ENVELOPE {env} (KEY (a))")
    names = None
    rows = fetch_rows(cur, 2)
    names = [d.name for d in cur.description]
    readers[env] = (r, cur, names, rows)

check("upsert columns", readers["UPSERT"][2], ["mz_timestamp", "mz_state", "a", "b"])
check("debezium columns", readers["DEBEZIUM"][2], ["mz_timestamp", "mz_state", "a", "before_b", "after_b"])
check("upsert snapshot", readers["UPSERT"][3], [("upsert", 1, 10), ("upsert", 2, 20)])
check("debezium snapshot", readers["DEBEZIUM"][3], [("insert", 1, None, 10), ("insert", 2, None, 20)])

w.execute("UPDATE t SET b = 11 WHERE a = 1")
w.execute("DELETE FROM t WHERE a = 2")
w.execute("INSERT INTO t VALUES (3, 30), (3, 31)")
check("upsert changes", fetch_rows(readers["UPSERT"][1], 3),
      [("upsert", 1, 11), ("delete", 2, None), ("key_violation", 3, None)])
check("debezium changes", fetch_rows(readers["DEBEZIUM"][1], 3),
      [("upsert", 1, 10, 11), ("delete", 2, 20, None), ("key_violation", 3, None, None)])
for r, *_ in readers.values():
    r.close()

# WITHIN TIMESTAMP ORDER BY: each timestamp's rows in the given order (mz_diff allowed).
r = psycopg.connect(dsn)
cur = r.cursor()
cur.execute("DECLARE c CURSOR FOR SUBSCRIBE t WITHIN TIMESTAMP ORDER BY b DESC")
check("ordered snapshot", fetch_rows(cur, 3), [(1, 3, 31), (1, 3, 30), (1, 1, 11)])
r.rollback()
cur.execute("DECLARE c CURSOR FOR SUBSCRIBE t WITH (SNAPSHOT = false) WITHIN TIMESTAMP ORDER BY mz_diff, a DESC")
w.execute("BEGIN")
w.execute("DELETE FROM t WHERE a = 1")
w.execute("INSERT INTO t VALUES (6, 60), (7, 70)")
w.execute("COMMIT")
check("ordered changes", fetch_rows(cur, 3), [(-1, 1, 11), (1, 7, 70), (1, 6, 60)])
r.close()

# Errors: an unknown key column; both options at once.
r = psycopg.connect(dsn, autocommit=True)
for sql, state in (("SUBSCRIBE t ENVELOPE UPSERT (KEY (nope))", "42703"),
                   ("SUBSCRIBE t ENVELOPE UPSERT (KEY (a)) WITHIN TIMESTAMP ORDER BY a", "0A000")):
    try:
        r.execute(sql)
        check(sql, "accepted", state)
    except psycopg.Error as e:
        check(sql, e.sqlstate, state)
sys.exit(1 if failed else 0)
PY
rc=$?
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "subscribe envelope checks failed"; exit 1; fi
