#!/usr/bin/env bash
# A view over an indexed view, reading the index as a shared arrangement or arranging the
# view's rows itself (FRESHET_SHARED_ARRANGEMENTS=off), one server each, same data. See
# bench/README.md, "Shared arrangements".
#
#   bench/shared_arrangements.sh            EVENTS=1000000 WORKERS=2 MORE_EVENTS=100000
#   PERF_DIR=/tmp/p bench/shared_arrangements.sh   (perf record of each mode's CREATE INDEX)
#
# Per mode, over EVENTS Nexmark events (LOAD GENERATOR NEXMARK, then copied into tables):
#   auctions_v = SELECT * FROM auction, indexed by id;
#   bids_v     = bid JOIN auctions_v ON auctions_v.id = bid.auction, indexed by auction;
# hydrate: CREATE INDEX on bids_v, seconds and the server's CPU seconds (utime+stime from
# /proc); operator_bytes of bids_v's dataflow (mz_arrangement_sizes: its join state); RSS
# after minus before the CREATE INDEX; catch-up: MORE_EVENTS bids (on existing auctions) and
# MORE_EVENTS / 46 * 3 auctions inserted in 1,000-row transactions while bids_v's dataflow
# is paused, then the time and server CPU until a read of bids_v returns; operator_bytes and
# the RSS growth (since before the CREATE INDEX) after that. Then the lag of auctions_v's
# reads while a second dependent hydrates: bids_v2 (bids_v again) gets its index in the
# background while one client, in a loop, inserts an auction and times a strict serializable
# point read of it in auctions_v (a psql each: about 10 ms of the time is psql's start);
# the median and the largest of those reads, and the hydration's seconds.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${EVENTS:=1000000}" "${WORKERS:=2}" "${MORE_EVENTS:=100000}" "${SEED:=1}"

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$FRESHET_PID/stat"; }
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$FRESHET_PID/status"; }
now() { date +%s.%N; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

run_mode() {  # run_mode on|off
  local mode=$1
  FRESHET_SHARED_ARRANGEMENTS=$mode FRESHET_EXTRA_ARGS="--workers $WORKERS" start_freshet || exit 1
  q "CREATE SOURCE nx FROM LOAD GENERATOR NEXMARK (TICK INTERVAL '10ms', RATE 20000, SEED $SEED, MAX EVENTS $EVENTS)
     FOR TABLES (person AS gen_person, auction AS gen_auction, bid AS gen_bid)" >/dev/null || exit 1
  while (($(q "SELECT rows_total FROM mz_source_statuses WHERE name = 'nx'") < EVENTS)); do sleep 1; done
  q "CREATE TABLE auction AS SELECT id, item_name, initial_bid, reserve, date_time, expires, seller, category FROM gen_auction" >/dev/null
  q "CREATE TABLE bid AS SELECT auction, bidder, price, channel, date_time FROM gen_bid" >/dev/null
  q "DROP SOURCE nx CASCADE" >/dev/null
  q "CREATE VIEW auctions_v AS SELECT * FROM auction" >/dev/null
  q "CREATE INDEX auctions_v_id ON auctions_v (id)" >/dev/null
  q "CREATE VIEW bids_v AS SELECT b.auction, b.bidder, b.price, a.seller, a.category FROM bid b JOIN auctions_v a ON a.id = b.auction" >/dev/null
  local rss0 cpu0 t0 t1 cpu1 rss1
  rss0=$(rss_mb); cpu0=$(cpu_s); t0=$(now)
  # PERF_DIR=dir: perf record (call graphs) of the server during the CREATE INDEX, into
  # dir/hydrate-MODE.data.
  local perf_pid=
  if [[ -n "${PERF_DIR:-}" ]]; then
    mkdir -p "$PERF_DIR"
    perf record -q -g -p "$FRESHET_PID" -o "$PERF_DIR/hydrate-$mode.data" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5
  fi
  q "CREATE INDEX bids_v_auction ON bids_v (auction)" >/dev/null || exit 1
  t1=$(now); cpu1=$(cpu_s); rss1=$(rss_mb)
  if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null; fi
  local rows ops arr shared
  rows=$(q "SELECT count(*) FROM bids_v")
  ops=$(q "SELECT operator_bytes FROM mz_arrangement_sizes WHERE object_name = 'bids_v'")
  arr=$(q "SELECT arrangement_bytes FROM mz_arrangement_sizes WHERE object_name = 'bids_v'")
  shared=$(q "EXPLAIN PLAN FOR VIEW bids_v" | grep -c "Shared arrangement" || true)
  # Catch-up: auctions and bids on existing auctions, bids_v paused.
  local maxid
  maxid=$(q "SELECT max(id) FROM auction")
  q "ALTER SYSTEM SET unsafe_pause_dataflows = on" >/dev/null
  local n=$((MORE_EVENTS / 1000)) i
  for ((i = 0; i < n; i++)); do
    q "BEGIN; INSERT INTO auction SELECT $maxid + $i * 60 + g, 'x', 1, 1, now(), now(), g % 100, g % 10 FROM generate_series(1, 60) g;
       INSERT INTO bid SELECT ($maxid * (g + $i) / 1000) % $maxid + 1, g, g, 'c', now() FROM generate_series(1, 1000) g; COMMIT" >/dev/null
  done
  local c0 s0 c1 s1
  c0=$(cpu_s); s0=$(now)
  q "ALTER SYSTEM SET unsafe_pause_dataflows = off" >/dev/null
  q "SELECT count(*) FROM bids_v" >/dev/null
  s1=$(now); c1=$(cpu_s)
  local ops2
  ops2=$(q "SELECT operator_bytes FROM mz_arrangement_sizes WHERE object_name = 'bids_v'")
  local rss_after=$(($(rss_mb) - rss0))
  # Reads of auctions_v while bids_v2 hydrates.
  q "CREATE VIEW bids_v2 AS SELECT b.auction, b.bidder, b.price, a.seller, a.category FROM bid b JOIN auctions_v a ON a.id = b.auction" >/dev/null
  local lag_file h0 h1 ci k=0 id r0 r1
  lag_file=$(mktemp)
  h0=$(now)
  q "CREATE INDEX bids_v2_auction ON bids_v2 (auction)" >/dev/null &
  ci=$!
  sleep 0.2
  while kill -0 "$ci" 2>/dev/null; do
    k=$((k + 1))
    id=$((maxid + 10000000 + k))
    q "INSERT INTO auction VALUES ($id, 'y', 1, 1, now(), now(), 1, 1)" >/dev/null
    r0=$(now)
    q "SELECT count(*) FROM auctions_v WHERE id = $id" >/dev/null
    r1=$(now)
    awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.4f\n", b - a }' >>"$lag_file"
  done
  wait "$ci"
  h1=$(now)
  local lag
  lag=$(sort -n "$lag_file" | awk '{ v[NR] = $1 } END { if (NR == 0) { print "reads=0"; exit } printf "reads=%d median=%.0fms max=%.0fms", NR, v[int((NR + 1) / 2)] * 1000, v[NR] * 1000 }')
  rm -f "$lag_file"
  awk -v m="$mode" -v r="$rows" -v h="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
      -v hc="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')" -v o="$ops" -v a="$arr" \
      -v rss="$((rss1 - rss0))" -v cu="$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')" \
      -v cc="$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')" -v sh="$shared" -v steps="$n" -v o2="$ops2" -v rssend="$rss_after" \
      -v lag="$lag" -v h2="$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", b - a }')" \
      'BEGIN { printf "%-4s shared_reads=%s rows=%s hydrate=%ss cpu=%ss operator_bytes=%.1fMB arrangement_bytes=%.1fMB rss_delta=%sMB catchup(%s txns)=%ss cpu=%ss operator_bytes_after=%.1fMB rss_delta_after=%sMB; auctions_v reads during a second hydration (%ss): %s\n", m, sh, r, h, hc, o / 1048576, a / 1048576, rss, steps, cu, cc, o2 / 1048576, rssend, h2, lag }'
  stop_freshet
}

echo "shared_arrangements: EVENTS=$EVENTS WORKERS=$WORKERS MORE_EVENTS=$MORE_EVENTS load average $(cut -d' ' -f1-3 /proc/loadavg)"
run_mode off
run_mode on
echo "shared_arrangements: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
