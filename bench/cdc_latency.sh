#!/usr/bin/env bash
# CDC benchmark: a real PostgreSQL 15 (wal_level=logical, loopback) captured by Freshet.
#  1. Latency: PostgreSQL commit -> the row in a SUBSCRIBE on an indexed view, at 1k and 10k
#     upstream changes/s (bench/cdc_latency.js); p50/p99 printed. Goal: p99 < 100 ms, p50 <= 10 ms.
#  2. Capture throughput: one upstream transaction of BULK_ROWS rows (default 1M) streamed
#     through the source: time from its commit until mz_source_statuses.position reaches its
#     commit LSN, next to pg_recvlogical (PostgreSQL's own client, pgoutput, same publication)
#     reading the same WAL from a slot created before the insert; rows/s of both and the ratio.
# Usage: bench/cdc_latency.sh   (env: FRESHET_BIN, SECONDS_PER_RATE=10, RATES="1000 10000", MAX_COMMITS_PER_S=1000,
#        BULK_ROWS=1000000). Everything runs on this machine; nothing else is touched.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/test/e2e/lib.sh"
source "$ROOT/test/e2e/cdc/cdc_lib.sh"
SECS=${SECONDS_PER_RATE:-10}
RATES=${RATES:-1000 10000}
BULK=${BULK_ROWS:-1000000}
cdc_trap
die() { echo "cdc_latency: $*" >&2; exit 1; }

cdc_pg_start || die "PostgreSQL did not start"
upg "CREATE TABLE lat (id bigserial PRIMARY KEY, t_us int8 NOT NULL, pad text);
     CREATE TABLE bulk (id int8 PRIMARY KEY, a int4, b text, c numeric(10,2), d timestamptz);
     CREATE PUBLICATION plat FOR TABLE lat; CREATE PUBLICATION pbulk FOR TABLE bulk;" >/dev/null || die "schema"
FD=$(cdc_mktemp freshet)
cdc_freshet_start "$FD" || die "freshet did not start"
cdc_pg_connection || die "CREATE CONNECTION"
fsql "CREATE SOURCE latsrc FROM POSTGRES CONNECTION pg (PUBLICATION 'plat') FOR ALL TABLES" >/dev/null || die "CREATE SOURCE"
fsql "CREATE VIEW lat_v AS SELECT id, t_us FROM lat WHERE pad = 'x'" >/dev/null || die "CREATE VIEW"
fsql "CREATE INDEX lat_v_idx ON lat_v (id)" >/dev/null || die "CREATE INDEX"

echo "== latency: PostgreSQL commit -> SUBSCRIBE row on an indexed view ($SECS s per rate)"
results=()
for rate in $RATES; do
  out=$(cd "$ROOT/bench" && FRESHET_PORT=$CDC_FRESHET_PORT UP_HOST=$CDC_PG_DIR UP_PORT=$CDC_PG_PORT \
        timeout $((SECS + 90)) node cdc_latency.js "$rate" "$SECS" 2>&1)
  echo "$out" | grep -v '^RESULT'
  results+=("$(echo "$out" | grep '^RESULT')")
done

echo "== capture throughput: one transaction of $BULK rows"
fsql "CREATE SOURCE bulksrc FROM POSTGRES CONNECTION pg (PUBLICATION 'pbulk') FOR ALL TABLES" >/dev/null || die "CREATE SOURCE bulk"
# pg_recvlogical's slot exists before the insert, so it reads the same WAL afterwards.
recv() { "$PG_BIN/pg_recvlogical" -h "$CDC_PG_DIR" -p "$CDC_PG_PORT" -U postgres -d shop "$@"; }
recv --slot bench_recv --create-slot -P pgoutput >/dev/null || die "pg_recvlogical --create-slot"
t_ins0=$(date +%s%N)
upg "INSERT INTO bulk SELECT g, g % 1000, md5(g::text), (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second'
     FROM generate_series(1, $BULK) g" >/dev/null || die "bulk insert"
t0=$(date +%s%N)
lsn=$(cdc_pg_lsn)
cdc_wait_position bulksrc "$lsn" 600 >/dev/null || die "freshet did not catch up to $lsn"
t1=$(date +%s%N)
n=$(fsql "SELECT count(*) FROM bulk")
[[ "$n" == "$BULK" ]] || die "freshet has $n rows in bulk, expected $BULK"
fr_ms=$(( (t1 - t0) / 1000000 ))
t2=$(date +%s%N)
recv --slot bench_recv --start --endpos "$lsn" -o proto_version=1 -o publication_names=pbulk -f /dev/null \
  || die "pg_recvlogical --start"
t3=$(date +%s%N)
pg_ms=$(( (t3 - t2) / 1000000 ))
recv --slot bench_recv --drop-slot >/dev/null 2>&1
echo "upstream INSERT of $BULK rows took $(( (t0 - t_ins0) / 1000000 )) ms"
awk -v n="$BULK" -v f="$fr_ms" -v p="$pg_ms" 'BEGIN {
  f = f < 1 ? 1 : f; p = p < 1 ? 1 : p
  printf "freshet source:            %8d ms  %10.0f rows/s  (commit -> position reached, rows durable)\n", f, n * 1000 / f
  printf "pg_recvlogical (pgoutput): %8d ms  %10.0f rows/s  (same WAL, output to /dev/null)\n", p, n * 1000 / p
  printf "ratio freshet / pg_recvlogical: %.2f\n", (n / f) / (n / p)
}'
echo "== summary"
printf '%s\n' "${results[@]}"
