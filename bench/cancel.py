"""Cancel latency: run a long query, cancel it from another thread after a short delay, and
measure from the cancel request to the query's error (57014) as the client sees it.
Usage: cancel.py N QUERY [DELAY_S] (connection from PGHOST/PGPORT/PGUSER/PGDATABASE).
DELAY_S is seconds, or LO:HI for a delay drawn uniformly from [LO, HI] for each run (a fixed
seed), so that the cancels land all over the query's run: in the snapshot copy, while a big
batch grows, in the aggregate, while an over-budget query fails.
CANCEL_LOG=FILE appends one line per cancelled run (run, delay, CLOCK_MONOTONIC seconds at the
cancel request and at the error, latency ms) to line up with a server started with
FRESHET_TRACE=1 (bench/README.md, "Cancel latency")."""
import os
import random
import statistics
import sys
import threading
import time

import psycopg

n = int(sys.argv[1])
query = sys.argv[2]
delay_arg = sys.argv[3] if len(sys.argv) > 3 else "0.5"
lo, _, hi = delay_arg.partition(":")
rng = random.Random(42)
lat_ms = []
with psycopg.connect(autocommit=True) as conn:
    for i in range(n):
        sent = {}
        delay = rng.uniform(float(lo), float(hi)) if hi else float(lo)

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
        except psycopg.errors.ProgramLimitExceeded:  # 54000 before the cancel: not a sample
            t.join()
            continue
        except psycopg.errors.OutOfMemory:  # 53200 before the cancel: not a sample
            t.join()
            continue
        t.join()
        lat_ms.append((done - sent["t"]) * 1000)
        if os.environ.get("CANCEL_LOG"):
            with open(os.environ["CANCEL_LOG"], "a") as f:
                f.write(f"run {i} delay {delay:.3f} sent {sent['t']:.6f} error {done:.6f} latency_ms {lat_ms[-1]:.1f}\n")
lat_ms.sort()
if not lat_ms:
    sys.exit("no query was cancelled")
p = lambda q: lat_ms[min(len(lat_ms) - 1, int(q * len(lat_ms)))]
print(f"cancels {len(lat_ms)}/{n}: p50 {statistics.median(lat_ms):.1f} ms  p90 {p(0.9):.1f} ms  "
      f"p99 {p(0.99):.1f} ms  max {lat_ms[-1]:.1f} ms")
