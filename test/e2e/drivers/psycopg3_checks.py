"""psycopg 3 (Debian python3-psycopg) against a running server (PGHOST/PGPORT/PGUSER/PGDATABASE)."""
import datetime
import decimal
import uuid

import psycopg
from psycopg.types import TypeInfo
from psycopg.types.json import Jsonb

from checks import ON_FRESHET, check, eq, finish


ac = psycopg.connect(autocommit=True, application_name="psycopg3_e2e")


@check("connect and server settings")
def _():
    eq(ac.info.parameter_status("client_encoding"), "UTF8")
    eq(ac.execute("SELECT 1 AS one").fetchone(), (1,))


@check("DDL in autocommit mode")
def _():
    ac.execute("DROP TABLE IF EXISTS pg3_t")
    ac.execute("CREATE TABLE pg3_t (id int PRIMARY KEY, name text NOT NULL, amount numeric(10,2), "
               "born date, seen timestamptz, flag boolean, doc jsonb, u uuid, raw bytea, f float8)")


ROW = (1, "héllo 'q'", decimal.Decimal("12.50"), datetime.date(2024, 2, 29),
       datetime.datetime(2024, 2, 29, 13, 14, 15, 500000, tzinfo=datetime.timezone.utc), True,
       {"a": [1, 2], "b": None}, uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), b"\x00\xffab", 1.5)


@check("insert with parameters of every common type (text and binary)")
def _():
    ins = "INSERT INTO pg3_t VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ac.execute(ins, (*ROW[:6], Jsonb(ROW[6]), *ROW[7:]))
    with ac.cursor(binary=True) as cur:
        r = list(ROW)
        r[0] = 2
        cur.execute(ins, (*r[:6], Jsonb(r[6]), *r[7:]))


@check("select round trip (text format)")
def _():
    row = ac.execute("SELECT * FROM pg3_t WHERE id = %s", (1,)).fetchone()
    eq(row[0], 1)
    eq(row[1], ROW[1])
    eq(row[2], ROW[2])
    eq(row[3], ROW[3])
    eq(row[4], ROW[4])
    eq(row[5:], ROW[5:])


@check("select round trip (binary format)")
def _():
    with ac.cursor(binary=True) as cur:
        row = cur.execute("SELECT * FROM pg3_t WHERE id = %s", (2,)).fetchone()
        eq(row[1:], ROW[1:])


WIDE = [decimal.Decimal(v) for v in ("999999999999999999999999999999999999999", "-170141183460469231731687303715884105728",
                                       "-98765432109876543210987654321098765432.1", "0.500000000000000000000000000000000000000",
                                       "9E+38", "1.5")]


@check("39-digit numerics (past 2^127) as parameters and results, text and binary")
def _():
    ac.execute("DROP TABLE IF EXISTS pg3_wide")
    ac.execute("CREATE TABLE pg3_wide (id int, n numeric)")
    for i, v in enumerate(WIDE):
        ac.execute("INSERT INTO pg3_wide VALUES (%s, %s)", (i, v))
    with ac.cursor(binary=True) as cur:
        for i, v in enumerate(WIDE):
            cur.execute("INSERT INTO pg3_wide VALUES (%s, %s)", (100 + i, v))
        got = cur.execute("SELECT n FROM pg3_wide ORDER BY id").fetchall()
    eq([r[0] for r in got], WIDE + WIDE)
    got = ac.execute("SELECT n::text, count(*) FROM pg3_wide GROUP BY n ORDER BY n").fetchall()
    eq(got, [(str(v) if v != decimal.Decimal("9E+38") else "900000000000000000000000000000000000000", 2)
             for v in sorted(WIDE)])


@check("executemany and prepared statements")
def _():
    with ac.cursor() as cur:
        cur.executemany("INSERT INTO pg3_t (id, name) VALUES (%s, %s)", [(i, f"n{i}") for i in range(10, 20)])
        for _ in range(6):  # past prepare_threshold: psycopg prepares a named statement
            eq(cur.execute("SELECT count(*) FROM pg3_t WHERE id >= %s", (10,)).fetchone(), (10,))
        eq(cur.execute("SELECT name FROM pg3_t WHERE id = %s", (15,), prepare=True).fetchone(), ("n15",))


@check("errors carry their SQLSTATE")
def _():
    for sql, state in [("SELECT * FROM no_such_table", "42P01"), ("SELECT 1/0", "22012"),
                       ("SELEC 1", "42601"), ("INSERT INTO pg3_t (id, name) VALUES (1, 'dup')", "23505")]:
        try:
            ac.execute(sql)
        except psycopg.Error as e:
            eq(e.sqlstate, state)
        else:
            raise AssertionError(f"{sql}: no error")
    eq(ac.execute("SELECT 2").fetchone(), (2,))


@check("TypeInfo.fetch")
def _():
    for name, oid in [("jsonb", 3802), ("int4", 23), ("text", 25), ("uuid", 2950)]:
        info = TypeInfo.fetch(ac, name)
        eq((info.name, info.oid), (name, oid))
    eq(TypeInfo.fetch(ac, "int4").array_oid, 1007)


@check("transaction block with writes: commit and rollback")
def _():
    with psycopg.connect() as conn:  # default mode: BEGIN before the first statement
        conn.execute("INSERT INTO pg3_t (id, name) VALUES (100, 'committed')")
        conn.commit()
        conn.execute("INSERT INTO pg3_t (id, name) VALUES (101, 'rolled back')")
        conn.rollback()
        eq(conn.execute("SELECT id FROM pg3_t WHERE id >= 100 ORDER BY id").fetchall(), [(100,)])


@check("an error aborts the transaction block (25P02)")
def _():
    with psycopg.connect() as conn:
        conn.execute("SELECT 1")
        try:
            conn.execute("SELECT * FROM no_such_table")
        except psycopg.Error:
            pass
        try:
            conn.execute("SELECT 1")
        except psycopg.Error as e:
            eq(e.sqlstate, "25P02")
        else:
            raise AssertionError("no 25P02")
        conn.rollback()
        eq(conn.execute("SELECT 3").fetchone(), (3,))


@check("DDL in the default (transaction) mode")
def _():
    with psycopg.connect() as conn:
        conn.execute("CREATE TABLE pg3_tx (a int)")
        conn.execute("INSERT INTO pg3_tx VALUES (1)")
        conn.commit()
        eq(conn.execute("SELECT a FROM pg3_tx").fetchall(), [(1,)])
        conn.execute("DROP TABLE pg3_tx")  # undone by the rollback: the table and its row stay
        conn.rollback()
        eq(conn.execute("SELECT a FROM pg3_tx").fetchall(), [(1,)])
        conn.commit()


@check("savepoints (conn.transaction() nested)")
def _():
    with psycopg.connect() as conn:
        with conn.transaction():
            conn.execute("INSERT INTO pg3_t (id, name) VALUES (200, 'outer')")
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO pg3_t (id, name) VALUES (201, 'inner')")
                    raise RuntimeError("undo the inner block")
            except RuntimeError:
                pass
        eq(conn.execute("SELECT id FROM pg3_t WHERE id >= 200 ORDER BY id").fetchall(), [(200,)])


@check("server-side (named) cursor")
def _():
    with psycopg.connect() as conn:
        with conn.cursor(name="pg3_named") as cur:
            cur.itersize = 3
            cur.execute("SELECT id FROM pg3_t WHERE id BETWEEN 10 AND 19 ORDER BY id")
            eq([r[0] for r in cur], list(range(10, 20)))


@check("server-side cursor: scrollable, WITH HOLD, binary, scroll()")
def _():
    with psycopg.connect() as conn:
        with conn.cursor(name="pg3_hold", scrollable=True, withhold=True, binary=True) as cur:
            cur.execute("SELECT id, name FROM pg3_t WHERE id BETWEEN 10 AND 19 ORDER BY id")
            conn.commit()  # WITH HOLD: the cursor outlives the transaction
            eq(cur.fetchmany(2), [(10, "n10"), (11, "n11")])
            cur.scroll(5, mode="absolute")  # MOVE ABSOLUTE 5: on the 5th row, 14
            eq(cur.fetchone(), (15, "n15"))
            cur.scroll(-3)
            eq(cur.fetchone(), (13, "n13"))
            eq([r[0] for r in cur.fetchall()], [14, 15, 16, 17, 18, 19])


@check("a CancelRequest with a wrong secret key is ignored")
def _():
    import os
    import socket
    import struct
    import threading
    import time
    victim = psycopg.connect(autocommit=True)
    pid = victim.info.backend_pid

    def cancels():
        time.sleep(0.3)  # the backend's pid with a key that is not its key: ignored
        with socket.create_connection((os.environ.get("PGHOST", "127.0.0.1"), int(os.environ["PGPORT"]))) as s:
            s.sendall(struct.pack("!iiii", 16, 80877102, pid, 0x5EC12E7 ^ 0x7FFFFFFF))
            s.recv(1)  # the server closes the connection without answering
        time.sleep(0.7)
        victim.cancel()  # the real key (libpq's PQcancel)

    t = threading.Thread(target=cancels)
    t.start()
    start = time.monotonic()
    try:
        victim.execute("SELECT sum(g) FROM generate_series(1, 400000000) g")
    except psycopg.errors.QueryCanceled:
        pass
    else:
        raise AssertionError("not cancelled")
    elapsed = time.monotonic() - start
    t.join()
    assert elapsed >= 0.9, f"cancelled after {elapsed:.2f} s: the wrong key's request was obeyed"
    eq(victim.execute("SELECT 1").fetchone(), (1,))
    victim.close()


@check("pg_backend_pid, pg_cancel_backend, pg_terminate_backend")
def _():
    import threading
    import time
    victim = psycopg.connect(autocommit=True)
    pid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
    eq(pid, victim.info.backend_pid)  # the pid of BackendKeyData

    def later():
        time.sleep(0.5)
        eq(ac.execute("SELECT pg_cancel_backend(%s)", (pid,)).fetchone(), (True,))

    t = threading.Thread(target=later)
    t.start()
    try:
        victim.execute("SELECT sum(g) FROM generate_series(1, 400000000) g")
    except psycopg.errors.QueryCanceled:
        pass
    else:
        raise AssertionError("not cancelled")
    t.join()
    eq(victim.execute("SELECT 1").fetchone(), (1,))
    eq(ac.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone(), (True,))
    time.sleep(0.2)
    try:
        victim.execute("SELECT 1")
    except psycopg.OperationalError as e:
        assert "terminating connection due to administrator command" in str(e), str(e)
    else:
        raise AssertionError("the terminated connection still answers")
    victim.close()


@check("COPY FROM STDIN / TO STDOUT")
def _():
    with ac.cursor() as cur:
        with cur.copy("COPY pg3_t (id, name) FROM STDIN") as cp:
            cp.write_row((300, "copied"))
        with cur.copy("COPY (SELECT id, name FROM pg3_t WHERE id = 300) TO STDOUT") as cp:
            eq([r for r in cp.rows()], [("300", "copied")])


@check("COPY in binary (write_row / read_row with set_types)")
def _():
    ac.execute("DROP TABLE IF EXISTS pg3_copyb")
    ac.execute("CREATE TABLE pg3_copyb (id int PRIMARY KEY, name text, amount numeric(10,2), born date, "
               "seen timestamptz, flag boolean, u uuid, raw bytea, f float8)")
    rows = [(1, "héllo\ttab\nline", decimal.Decimal("12.50"), datetime.date(2024, 2, 29),
             datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), True,
             uuid.UUID("12345678-1234-5678-1234-567812345678"), b"\x00\xff", 1.5),
            (2, None, None, None, None, None, None, None, None)]
    types = ["int4", "text", "numeric", "date", "timestamptz", "bool", "uuid", "bytea", "float8"]
    with ac.cursor() as cur:
        with cur.copy("COPY pg3_copyb FROM STDIN (FORMAT binary)") as cp:
            cp.set_types(types)
            for r in rows:
                cp.write_row(r)
        eq(cur.rowcount, 2)
        got = []
        with cur.copy("COPY (SELECT * FROM pg3_copyb ORDER BY id) TO STDOUT (FORMAT binary)") as cp:
            cp.set_types(types)
            while (r := cp.read_row()) is not None:
                got.append(r)
        eq(got, rows)


@check("COPY with a bad row loads nothing (22P02 naming the line)")
def _():
    with ac.cursor() as cur:
        try:
            with cur.copy("COPY pg3_copyb (id, name) FROM STDIN") as cp:
                cp.write(b"10\tok\n11\tok\nx\tbad\n")
        except psycopg.errors.InvalidTextRepresentation as e:
            eq(e.diag.context.splitlines()[0], 'COPY pg3_copyb, line 3, column id: "x"')
        else:
            raise AssertionError("no 22P02")
        eq(ac.execute("SELECT count(*) FROM pg3_copyb WHERE id >= 10").fetchone(), (0,))


@check("COPY (SUBSCRIBE ...) TO STDOUT streams until cancelled", freshet_only=True)
def _():
    import threading
    import time
    ac.execute("DROP TABLE IF EXISTS pg3_copysub")
    ac.execute("CREATE TABLE pg3_copysub (k int, v text)")
    ac.execute("INSERT INTO pg3_copysub VALUES (1, 'a')")

    def later():
        time.sleep(0.3)
        ac.execute("INSERT INTO pg3_copysub VALUES (2, 'b')")

    t = threading.Thread(target=later)
    t.start()
    got = []
    with psycopg.connect(autocommit=True) as conn, conn.cursor() as cur:
        try:
            with cur.copy("COPY (SUBSCRIBE pg3_copysub) TO STDOUT") as cp:
                for data in cp:
                    got.append(bytes(data).decode().split("\t", 1)[1])
                    if len(got) == 2:
                        conn.cancel()
        except psycopg.errors.QueryCanceled:
            pass
        else:
            raise AssertionError("the COPY ended without the cancel")
        eq(conn.execute("SELECT 1").fetchone(), (1,))
    t.join()
    eq(got, ["1\t1\ta\n", "1\t2\tb\n"])


@check("cursor.stream(SUBSCRIBE)", freshet_only=True)
def _():
    ac.execute("DROP TABLE IF EXISTS pg3_sub")
    ac.execute("CREATE TABLE pg3_sub (k int, v text)")
    ac.execute("INSERT INTO pg3_sub VALUES (1, 'a'), (2, 'b')")
    seen = []
    with psycopg.connect(autocommit=True) as conn:
        with conn.cursor() as cur:
            for row in cur.stream("SUBSCRIBE pg3_sub"):
                seen.append((row[-2], row[-1]))
                if len(seen) == 2:
                    conn.cancel()
                    break
    eq(sorted(seen), [(1, "a"), (2, "b")])


@check("SHOW over the extended protocol")
def _():
    with ac.cursor() as cur:
        cur.execute("SHOW search_path")
        eq(cur.description[0].name, "search_path")
        eq(len(cur.fetchall()), 1)


@check("SHOW and EXPLAIN of Freshet over the extended protocol", freshet_only=True)
def _():
    with ac.cursor() as cur:
        cur.execute("SHOW TABLES")
        assert ("pg3_t",) in [tuple(r[:1]) for r in cur.fetchall()]
        cur.execute("EXPLAIN SELECT * FROM pg3_t")
        assert cur.description[0].name == "Optimized Plan" and cur.fetchall()


@check("DECLARE CURSOR FOR SUBSCRIBE, FETCH ... WITH (timeout = $1)", freshet_only=True)
def _():
    with psycopg.connect() as conn:
        conn.execute("DECLARE c CURSOR FOR SUBSCRIBE pg3_sub")
        rows = conn.execute("FETCH ALL c WITH (timeout = %s)", ("1s",)).fetchall()
        eq(sorted((r[-2], r[-1]) for r in rows), [(1, "a"), (2, "b")])
        with conn.cursor() as cur:
            cur.execute("FETCH 10 c WITH (timeout = %s)", (datetime.timedelta(milliseconds=200),))
            eq(cur.fetchall(), [])
            eq(cur.description[1].name, "mz_diff")
        conn.rollback()


@check("server stays healthy")
def _():
    eq(ac.execute("SELECT count(*) FROM pg3_t WHERE id < 100").fetchone(), (12,))


finish("psycopg3")
