"""Cancel latency: run a long query, cancel it from another thread after a short delay, and
measure from the cancel request to the query's error (57014) as the client sees it.
Usage: cancel.py N QUERY [DELAY_S] (connection from PGHOST/PGPORT/PGUSER/PGDATABASE)."""
import statistics
import sys
import threading
import time

import psycopg

n = int(sys.argv[1])
query = sys.argv[2]
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
lat_ms = []
with psycopg.connect(autocommit=True) as conn:
    for i in range(n):
        sent = {}

        def cancel():
            time.sleep(delay)
            sent["t"] = time.monotonic()
            conn.cancel()

        t = threading.Thread(target=cancel)
        t.start()
        start = time.monotonic()
        try:
            conn.execute(query)
            print(f"run {i}: finished in {time.monotonic() - start:.1f} s without being cancelled", file=sys.stderr)
            t.join()
            continue
        except psycopg.errors.QueryCanceled:
            done = time.monotonic()
        t.join()
        lat_ms.append((done - sent["t"]) * 1000)
lat_ms.sort()
if not lat_ms:
    sys.exit("no query was cancelled")
p = lambda q: lat_ms[min(len(lat_ms) - 1, int(q * len(lat_ms)))]
print(f"cancels {len(lat_ms)}/{n}: p50 {statistics.median(lat_ms):.1f} ms  p90 {p(0.9):.1f} ms  "
      f"p99 {p(0.99):.1f} ms  max {lat_ms[-1]:.1f} ms")
