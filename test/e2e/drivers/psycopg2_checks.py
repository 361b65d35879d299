"""psycopg2 (Debian python3-psycopg2) against a running server (PGHOST/PGPORT/PGUSER/PGDATABASE)."""
import datetime
import decimal
import io
import uuid

import psycopg2
import psycopg2.extras

from checks import check, eq, finish

psycopg2.extras.register_uuid()
ac = psycopg2.connect("")
ac.autocommit = True


def q(sql, args=None, conn=ac):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None


@check("connect and server version")
def _():
    assert ac.server_version >= 90000, ac.server_version
    eq(q("SELECT 1 AS one"), [(1,)])


@check("DDL in autocommit mode")
def _():
    q("DROP TABLE IF EXISTS pg2_t")
    q("CREATE TABLE pg2_t (id int PRIMARY KEY, name text NOT NULL, amount numeric(10,2), "
      "born date, seen timestamp, flag boolean, doc jsonb, u uuid, raw bytea, f float8, tags text[])")


ROW = (1, "it's \"quoted\" \\ ünïcode", decimal.Decimal("12.50"), datetime.date(2024, 2, 29),
       datetime.datetime(2024, 2, 29, 13, 14, 15, 500000), True, {"a": [1, 2]},
       uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), b"\x00\xffab", 1.5, ["x", "y z", None])


@check("insert and select every common type")
def _():
    r = list(ROW)
    r[6] = psycopg2.extras.Json(r[6])
    q("INSERT INTO pg2_t VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", r)
    row = q("SELECT * FROM pg2_t WHERE id = %(id)s", {"id": 1})[0]
    row = list(row)
    row[8] = bytes(row[8])
    eq(tuple(row), ROW)


@check("executemany and execute_values")
def _():
    with ac.cursor() as cur:
        cur.executemany("INSERT INTO pg2_t (id, name) VALUES (%s, %s)", [(i, f"n{i}") for i in range(10, 15)])
        psycopg2.extras.execute_values(cur, "INSERT INTO pg2_t (id, name) VALUES %s", [(i, f"n{i}") for i in range(15, 20)])
        eq(cur.rowcount, 5)
    eq(q("SELECT count(*), min(name), max(name) FROM pg2_t WHERE id >= 10"), [(10, "n10", "n19")])


@check("dict cursors")
def _():
    with ac.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT id, name FROM pg2_t WHERE id = 12")
        eq(cur.fetchone(), {"id": 12, "name": "n12"})


@check("errors carry their SQLSTATE")
def _():
    for sql, state in [("SELECT * FROM no_such_table", "42P01"), ("SELECT 1/0", "22012"),
                       ("INSERT INTO pg2_t (id, name) VALUES (1, 'dup')", "23505"),
                       ("INSERT INTO pg2_t (id) VALUES (2)", "23502")]:
        try:
            q(sql)
        except psycopg2.Error as e:
            eq(e.pgcode, state)
        else:
            raise AssertionError(f"{sql}: no error")


@check("default mode: writes commit and roll back")
def _():
    conn = psycopg2.connect("")
    q("INSERT INTO pg2_t (id, name) VALUES (100, 'kept')", conn=conn)
    conn.commit()
    q("INSERT INTO pg2_t (id, name) VALUES (101, 'undone')", conn=conn)
    conn.rollback()
    eq(q("SELECT id FROM pg2_t WHERE id >= 100", conn=conn), [(100,)])
    conn.close()


@check("an error aborts the transaction block (25P02)")
def _():
    conn = psycopg2.connect("")
    try:
        q("SELECT * FROM no_such_table", conn=conn)
    except psycopg2.Error:
        pass
    try:
        q("SELECT 1", conn=conn)
    except psycopg2.Error as e:
        eq(e.pgcode, "25P02")
    else:
        raise AssertionError("no 25P02")
    conn.rollback()
    eq(q("SELECT 1", conn=conn), [(1,)])
    conn.close()


@check("DDL in the default (transaction) mode")
def _():
    conn = psycopg2.connect("")
    q("CREATE TABLE pg2_tx (a int)", conn=conn)
    conn.commit()
    conn.close()


@check("savepoints (SAVEPOINT, ROLLBACK TO, RELEASE)")
def _():
    conn = psycopg2.connect("")
    q("CREATE TABLE pg2_sp (a int)", conn=conn)
    q("INSERT INTO pg2_sp VALUES (1)", conn=conn)
    q("SAVEPOINT s1", conn=conn)
    q("INSERT INTO pg2_sp VALUES (2)", conn=conn)
    q("ROLLBACK TO SAVEPOINT s1", conn=conn)
    q("SAVEPOINT s2", conn=conn)
    try:
        q("SELECT * FROM pg2_no_such_table", conn=conn)
    except psycopg2.Error as e:
        eq(e.pgcode, "42P01")
    else:
        raise AssertionError("no 42P01")
    q("ROLLBACK TO s2", conn=conn)  # the error is undone with the savepoint
    q("INSERT INTO pg2_sp VALUES (3)", conn=conn)
    q("RELEASE s2", conn=conn)
    conn.commit()
    eq(q("SELECT a FROM pg2_sp ORDER BY a"), [(1,), (3,)])
    conn.close()


@check("named cursor (DECLARE ... CURSOR)")
def _():
    conn = psycopg2.connect("")
    with conn.cursor("pg2_named") as cur:
        cur.itersize = 3
        cur.execute("SELECT id FROM pg2_t WHERE id BETWEEN 10 AND 19 ORDER BY id")
        eq([r[0] for r in cur], list(range(10, 20)))
    conn.close()


@check("copy_expert in and out")
def _():
    with ac.cursor() as cur:
        cur.copy_expert("COPY pg2_t (id, name) FROM STDIN WITH (FORMAT csv)", io.StringIO("300,copied\n"))
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT id, name FROM pg2_t WHERE id = 300) TO STDOUT WITH (FORMAT csv)", out)
        eq(out.getvalue(), "300,copied\n")



@check("copy_from / copy_to (old COPY option syntax)")
def _():
    with ac.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS pg2_copy")
        cur.execute("CREATE TABLE pg2_copy (id int PRIMARY KEY, name text, amount numeric(10,2))")
        cur.copy_from(io.StringIO("301\tfrom file\t1.50\n302\t\\N\t\\N\n"), "pg2_copy")
        eq(cur.rowcount, 2)
        out = io.StringIO()
        cur.copy_to(out, "pg2_copy", sep="|", columns=("id", "name"))
        eq(sorted(out.getvalue().splitlines()), ["301|from file", "302|\\N"])


@check("SUBSCRIBE through DECLARE ... CURSOR and FETCH", freshet_only=True)
def _():
    # Materialize's documented psycopg2 pattern: a cursor over SUBSCRIBE in a transaction.
    q("CREATE TABLE pg2_sub (k int, v text)")
    q("INSERT INTO pg2_sub VALUES (1, 'a'), (2, 'b')")
    conn = psycopg2.connect("")
    with conn.cursor() as cur:
        cur.execute("DECLARE c CURSOR FOR SUBSCRIBE pg2_sub")
        got = []
        while len(got) < 2:
            cur.execute("FETCH ALL c WITH (timeout = '5s')")
            rows = cur.fetchall()
            if not rows:
                raise AssertionError(f"nothing within 5 s; so far {got}")
            eq([d.name for d in cur.description][:3], ["mz_timestamp", "mz_diff", "k"])
            got += [(r[2], r[3], r[1]) for r in rows]
        eq(sorted(got), [(1, "a", 1), (2, "b", 1)])
    conn.rollback()
    conn.close()


finish("psycopg2")
