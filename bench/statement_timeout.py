"""statement_timeout precision: runs each long query 15 times with statement_timeout between
200 and 1,600 ms and prints how long after the timeout the client got its 57014 (the
overshoot). Usage: statement_timeout.py (connection from PGHOST/PGPORT/PGUSER/PGDATABASE)."""
import statistics
import time

import psycopg

QUERIES = {
    "generate_series": "SELECT sum(g) FROM generate_series(1, 400000000) g",
    "cross_join": "SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b",
}
with psycopg.connect(autocommit=True) as conn:
    for name, q in QUERIES.items():
        over = []
        for i in range(15):
            timeout_ms = 200 + 100 * i
            conn.execute(f"SET statement_timeout = {timeout_ms}")
            start = time.monotonic()
            try:
                conn.execute(q)
            except psycopg.errors.QueryCanceled:
                over.append((time.monotonic() - start) * 1000 - timeout_ms)
            except psycopg.errors.OutOfMemory:  # 53200 before the timeout: not a sample
                pass
        over.sort()
        if over:
            print(f"statement_timeout {name:16} {len(over)}/15: overshoot p50 {statistics.median(over):.1f} ms  "
                  f"max {over[-1]:.1f} ms")
