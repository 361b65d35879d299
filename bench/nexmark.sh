#!/usr/bin/env bash
# Nexmark on Freshet: the queries of bench/nexmark_queries.sql as indexed views over
# LOAD GENERATOR NEXMARK data, with 1 and 2 workers in one run, next to PostgreSQL 15 running
# the same query once over the same rows, and next to Feldera's published per-core throughput.
# See bench/README.md, "Nexmark".
#
#   bench/nexmark.sh                        EVENTS=1000000 MORE_EVENTS=200000 WORKERS_LIST="1 2"
#   bench/nexmark.sh --workers N            (one worker count only)
#   WORKERS_LIST="1 2 2/FRESHET_ROUTED_OUTPUT=on" bench/nexmark.sh
#                                           (an entry after the first may set the server's
#                                            environment after a '/', comma-separated: A/B
#                                            runs of one binary; a table per entry at the end)
#   EVENTS=100000 REPEATS=1 bench/nexmark.sh                   (quicker)
#   QUERIES="q0 q4" bench/nexmark.sh                          (some queries only)
#   PERF_DIR=/tmp/p bench/nexmark.sh                          (perf record of each hydration and catch-up)
#
# Per worker count (the server restarted on the same data directory with --workers N), per
# query, over EVENTS events already loaded:
#   hydrate   CREATE VIEW + CREATE INDEX (the index hydrates from the tables), seconds;
#   PG        PostgreSQL 15 running the query once (CREATE TEMP TABLE AS), median of PG_RUNS (3)
#             runs when the first took under PG_REPEAT_UNDER_S (2) seconds, else that one run
#             (with the first worker count only);
#   events/s  the dataflow's own rate, not the INSERT path's ("catch-up"): the view's dataflow
#             is paused (ALTER SYSTEM SET unsafe_pause_dataflows = on), CLIENTS psql clients
#             insert the next MORE_EVENTS events, TXN_EVENTS events per transaction (persons,
#             auctions and bids in event order), each transaction queuing one step of the
#             dataflow; once the server is idle again (storage compacts the collections after
#             the ingest; SETTLE_S), the dataflow is resumed and the clock runs until a strict
#             serializable read of the view returns (every queued step processed). CPU: the
#             seconds of the dataflow's threads in that window (fr-compute and fr-worker, from
#             /proc), and the busiest thread's CPU seconds bound what more workers could give
#             (CPU with 1 worker / busiest with 2). The inserted rows are deleted again (the view
#             maintained, untimed) and the whole is repeated REPEATS (3) times: medians;
#   rows      the view's row count next to PostgreSQL's; when at most COMPARE_ROWS (100,000), the
#             rows themselves are compared too (note "same rows" or "ROWS DIFFER");
#   RSS       the server's resident memory after hydration minus before, MB, and the index
#             arrangement's own bytes from mz_arrangement_sizes.
# Then all views at once: idle CPU of the server over IDLE_SECONDS (from /proc/PID/stat).
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${EVENTS:=1000000}" "${MORE_EVENTS:=200000}" "${TP_SECONDS:=120}" "${CLIENTS:=1}" "${TXN_EVENTS:=1000}" "${REPEATS:=3}"
: "${LOAD_EVENTS:=500000}" "${PG_RUNS:=3}" "${PG_REPEAT_UNDER_S:=2}" "${COMPARE_ROWS:=100000}" "${SEED:=1}" "${IDLE_SECONDS:=10}" "${IDLE_CPU:=1}" "${SETTLE_S:=60}"
: "${QUERIES:=q0 q1 q2 q3 q4 q5 q7 q8 q9 q16 q17 q18 q19 q20}"
WORKERS_LIST=${WORKERS_LIST:-1 2}
while (($#)); do
  case $1 in
    --workers) WORKERS_LIST=$2; shift 2 ;;
    --workers=*) WORKERS_LIST=${1#--workers=}; shift ;;
    *) echo "usage: bench/nexmark.sh [--workers N]" >&2; exit 2 ;;
  esac
done
# Every transaction of the catch-up phase is one queued step; the server queues at most 256
# (coordinator_state.hpp, kMaxQueuedSteps) and runs the paused dataflow once the queue is full.
if ((MORE_EVENTS / TXN_EVENTS > 240)); then
  echo "bench: MORE_EVENTS / TXN_EVENTS must be at most 240 (steps queued while the dataflow is paused)" >&2; exit 2
fi
read -r -a WLIST <<<"$WORKERS_LIST"
export FRESHET_EXTRA_ARGS="${FRESHET_EXTRA_ARGS:-} --workers ${WLIST[0]}"

WORK=$(mktemp -d /tmp/freshet-bench-nexmark.XXXXXX)
cleanup() { stop_freshet; stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT
psql_to() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U freshet -d freshet -v ON_ERROR_STOP=1 "${@:2}"; }
now_s() { date +%s.%N; }
since() { awk -v a="$(now_s)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$FRESHET_PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FRESHET_PID/stat"; }
# The server's CPU seconds since ticks $1 (user + system, all its threads).
cpu_since() { awk -v a="$(cpu_ticks)" -v b="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (a - b) / hz }'; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The queries: name, index key, Feldera's figure and SQL per block of nexmark_queries.sql.
declare -A SQL KEY FELDERA
while IFS=$'\x1f' read -r name key feldera text; do
  SQL[$name]=$text KEY[$name]=$key FELDERA[$name]=$feldera
done < <(awk '
  /^-- name: / { if (name != "") print name "\x1f" key "\x1f" fel "\x1f" text; name = $3; key = $5; fel = $7; text = ""; next }
  name != "" && !/^--/ { text = text " " $0 }
  END { if (name != "") print name "\x1f" key "\x1f" fel "\x1f" text }' "$BENCH_DIR/nexmark_queries.sql")

TOTAL=$((EVENTS + MORE_EVENTS))
# Event n is a person when n % 50 == 0, an auction when n % 50 is 1..3 (loadgen/nexmark.hpp).
expected_rows() {  # events -> "persons auctions bids"
  awk -v e="$1" 'BEGIN { full = int(e / 50); r = e % 50; p = full + (r > 0); a = full * 3 + (r > 1 ? (r - 1 > 3 ? 3 : r - 1) : 0); print p, a, e - p - a }'
}
read -r TOTAL_P TOTAL_A TOTAL_B <<<"$(expected_rows "$TOTAL")"
# Event time: 2015-07-15 00:00:00 + 100 us per event; the first of the MORE_EVENTS is at CUT.
event_time() { awk -v n="$1" 'BEGIN { us = n * 100; s = int(us / 1000000); printf "2015-07-15 %02d:%02d:%02d.%06d", int(s / 3600), int(s / 60) % 60, s % 60, us % 1000000 }'; }
CUT=$(event_time "$EVENTS")

start_postgres || exit 1
E2E_TARGET=freshet start_freshet || exit 1
trap cleanup EXIT
FR=$FRESHET_PORT PG=$PG_REF_PORT
echo "bench: Freshet pid $FRESHET_PID port $FR, PostgreSQL port $PG; EVENTS=$EVENTS MORE_EVENTS=$MORE_EVENTS workers: $WORKERS_LIST"

# 1. Generate EVENTS + MORE_EVENTS events once, as fast as Freshet takes them.
t0=$(now_s)
psql_to "$FR" -c "CREATE SOURCE nx FROM LOAD GENERATOR NEXMARK (TICK INTERVAL '10ms', RATE 10000, SEED $SEED, MAX EVENTS $TOTAL)
                  FOR TABLES (person AS gen_person, auction AS gen_auction, bid AS gen_bid)" >/dev/null || exit 1
while true; do
  got=$(psql_to "$FR" -c "SELECT rows_total FROM mz_source_statuses WHERE name = 'nx'")
  [[ "$got" == "$TOTAL" ]] && break
  [[ $(since "$t0" | cut -d. -f1) -gt 1800 ]] && { echo "bench: generator stuck at $got of $TOTAL events"; exit 1; }
  sleep 0.5
done
GEN_S=$(since "$t0")
GEN_RATE=$(awk -v n="$TOTAL" -v s="$GEN_S" 'BEGIN { printf "%.0f", n / s }')
got=$(psql_to "$FR" -F ' ' -c "SELECT (SELECT count(*) FROM gen_person), (SELECT count(*) FROM gen_auction), (SELECT count(*) FROM gen_bid)")
[[ "$got" == "$TOTAL_P $TOTAL_A $TOTAL_B" ]] || { echo "bench: generated $got rows, want $TOTAL_P $TOTAL_A $TOTAL_B"; exit 1; }
echo "bench: generated $TOTAL events in $GEN_S s ($GEN_RATE events/s into source tables, no view)"

# 2. Plain tables person/auction/bid with the first EVENTS events, in both engines.
DDL="CREATE TABLE person (id bigint NOT NULL, name text NOT NULL, email_address text NOT NULL, credit_card text NOT NULL,
       city text NOT NULL, state text NOT NULL, date_time timestamp NOT NULL, extra text NOT NULL);
     CREATE TABLE auction (id bigint NOT NULL, item_name text NOT NULL, description text NOT NULL, initial_bid bigint NOT NULL,
       reserve bigint NOT NULL, date_time timestamp NOT NULL, expires timestamp NOT NULL, seller bigint NOT NULL,
       category bigint NOT NULL, extra text NOT NULL);
     CREATE TABLE bid (auction bigint NOT NULL, bidder bigint NOT NULL, price bigint NOT NULL, channel text NOT NULL,
       url text NOT NULL, date_time timestamp NOT NULL, extra text NOT NULL);"
psql_to "$FR" -c "$DDL" >/dev/null || exit 1
psql_to "$PG" -c "$DDL" >/dev/null || exit 1
t0=$(now_s)
# In slices of LOAD_EVENTS events by event time: a transaction writes at most 256 MB
# (src/storage/record.hpp, kMaxBatchBytes), which the bids of 2M events pass in one INSERT.
for t in person auction bid; do
  for ((lo = 0; lo < EVENTS; lo += LOAD_EVENTS)); do
    hi=$((lo + LOAD_EVENTS < EVENTS ? lo + LOAD_EVENTS : EVENTS))
    psql_to "$FR" -c "INSERT INTO $t SELECT * FROM gen_$t WHERE date_time >= TIMESTAMP '$(event_time "$lo")'
                      AND date_time < TIMESTAMP '$(event_time "$hi")'" >/dev/null || exit 1
  done
done
LOAD_FR=$(since "$t0")
t0=$(now_s)
for t in person auction bid; do
  psql_to "$FR" -F $'\t' -c "SELECT * FROM gen_$t WHERE date_time < TIMESTAMP '$CUT'" >"$WORK/$t.tsv" || exit 1
  psql_to "$PG" -c "\\copy $t FROM '$WORK/$t.tsv'" >/dev/null || exit 1
done
psql_to "$PG" -c 'VACUUM ANALYZE' >/dev/null
LOAD_PG=$(since "$t0")
read -r BASE_P BASE_A BASE_B <<<"$(expected_rows "$EVENTS")"
for side in FR PG; do
  got=$(psql_to "${!side}" -F ' ' -c "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM auction), (SELECT count(*) FROM bid)")
  [[ "$got" == "$BASE_P $BASE_A $BASE_B" ]] || { echo "bench: $side has $got rows, want $BASE_P $BASE_A $BASE_B"; exit 1; }
done
echo "bench: $EVENTS events in person/auction/bid (Freshet INSERT ... SELECT $LOAD_FR s; PostgreSQL export + COPY + VACUUM ANALYZE $LOAD_PG s)"

# 3. The next MORE_EVENTS events as SQL transactions of TXN_EVENTS events, dealt round robin to
#    CLIENTS files. Each row carries its event number (date_time is 100 us per event).
for t in person auction bid; do
  psql_to "$FR" -F $'\t' -c "SELECT round((extract(epoch FROM date_time) - extract(epoch FROM TIMESTAMP '$CUT')) * 10000)::bigint, '$t', *
                             FROM gen_$t WHERE date_time >= TIMESTAMP '$CUT'" || exit 1
done | sort -t $'\t' -k1,1n -s | awk -F '\t' -v txn="$TXN_EVENTS" -v clients="$CLIENTS" -v dir="$WORK" '
  BEGIN {
    # i: a number; q: quoted text or timestamp
    types["person"] = "iqqqqqqq"; types["auction"] = "iqqiiqqiiq"; types["bid"] = "iiiqqqq"
  }
  function flush(   f, out) {
    if (batch < 0) return
    f = dir "/more-" (batch % clients) ".sql"
    out = "BEGIN;\n"
    if (rows["person"] != "") out = out "INSERT INTO person VALUES " rows["person"] ";\n"
    if (rows["auction"] != "") out = out "INSERT INTO auction VALUES " rows["auction"] ";\n"
    if (rows["bid"] != "") out = out "INSERT INTO bid VALUES " rows["bid"] ";\n"
    printf "%sCOMMIT;\n", out > f
    rows["person"] = rows["auction"] = rows["bid"] = ""
  }
  BEGIN { batch = -1 }
  {
    b = int($1 / txn)
    if (b != batch) { flush(); batch = b }
    ty = types[$2]; v = ""
    for (i = 3; i <= NF; i++) {
      c = substr(ty, i - 2, 1)
      v = v (i > 3 ? "," : "") (c == "i" ? $i : "'\''" $i "'\''")
    }
    rows[$2] = rows[$2] (rows[$2] == "" ? "" : ",") "(" v ")"
  }
  END { flush() }'
ls "$WORK"/more-*.sql >/dev/null 2>&1 || { echo "bench: no insert files were made"; exit 1; }
# The generated rows are in person/auction/bid and the insert files now: free their memory.
psql_to "$FR" -c "DROP SOURCE nx CASCADE" >/dev/null || exit 1

# Inserts the MORE_EVENTS events from CLIENTS clients for at most TP_SECONDS. Prints "events seconds".
ingest() {
  local pids=() c t0 elapsed commits
  t0=$(now_s)
  for c in $(seq 0 $((CLIENTS - 1))); do
    [[ -f "$WORK/more-$c.sql" ]] || continue
    psql -X -h 127.0.0.1 -p "$FR" -U freshet -d freshet -f "$WORK/more-$c.sql" >"$WORK/ingest-$c.out" 2>&1 &
    pids+=($!)
  done
  while true; do
    local alive=0 p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    awk -v a="$(now_s)" -v b="$t0" -v m="$TP_SECONDS" 'BEGIN { exit !(a - b >= m) }' && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  elapsed=$(since "$t0")
  commits=$(cat "$WORK"/ingest-*.out | grep -c '^COMMIT')
  if grep -q ERROR "$WORK"/ingest-*.out; then echo "bench: insert errors:" >&2; grep -m3 ERROR "$WORK"/ingest-*.out >&2; fi
  echo "$((commits * TXN_EVENTS)) $elapsed"
}
# Puts the tables back to the first EVENTS events.
reset_tables() {
  local t
  for t in person auction bid; do psql_to "$FR" -c "DELETE FROM $t WHERE date_time >= TIMESTAMP '$CUT'" >/dev/null || return 1; done
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }
# CPU ticks of each of the server's threads: "tid name ticks" lines.
thread_ticks() {
  local f
  for f in /proc/"$FRESHET_PID"/task/*/stat; do
    awk '{ n = $0; sub(/^[^(]*\(/, "", n); sub(/\).*$/, "", n); gsub(/ /, "_", n); sub(/^.*\) /, ""); print FILENAME, n, $12 + $13 }' "$f" 2>/dev/null
  done | sed -E 's|/proc/[0-9]+/task/([0-9]+)/stat|\1|'
}
# From two thread_ticks files: "cpu_s busiest_s" of the dataflow's threads, the compute
# drivers (fr-compute) and the pool (fr-worker). The drivers count as one thread: a dataflow's
# steps are taken by whichever driver is free, one at a time, so their sum is the serial part
# of the steps; each pool thread counts alone. The server's other threads are left out: after
# the ingest, storage compacts the collections on threads of its own (named freshet), which
# took 0.5-1.1 s of CPU during a catch-up of q0 and was counted here before (branch par19).
thread_cpu() {
  awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { a[$1] = $3; next }
    { d = $3 - a[$1]; if ($2 == "fr-compute") { c += d; t += d } else if ($2 == "fr-worker") { t += d; if (d > m) m = d } }
    END { if (c > m) m = c; printf "%.3f %.3f\n", t / hz, m / hz }' "$1" "$2"
}
# Waits (at most SETTLE_S seconds) until the server uses under 5% of a core over half a
# second: the ingest leaves storage compacting the collections, which would otherwise compete
# with the catch-up for the cores.
settle() {
  local i a b hz
  hz=$(getconf CLK_TCK)
  for ((i = 0; i < SETTLE_S * 2; i++)); do
    a=$(cpu_ticks); sleep 0.5; b=$(cpu_ticks)
    (((b - a) * 100 < hz * 5 / 2)) && return 0
  done
  echo "bench: the server did not settle within $SETTLE_S s" >&2
}
# From two thread_ticks files: CPU seconds per thread name ("fr-compute 0.41 fr-worker 0.37 ..."),
# the threads of one name summed, busiest first: where the CPU of a catch-up went.
thread_cpu_by_name() {
  awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { a[$1] = $3; next }
    { d[$2] += $3 - a[$1] }
    END { for (n in d) if (d[n] > 0) printf "%.3f %s\n", d[n] / hz, n }' "$1" "$2" | sort -rg | awk '{ printf "%s%s %s", (NR > 1 ? " " : ""), $2, $1 }'
}
# Stops the server (SIGTERM, a clean stop) and starts it again on the same data directory with
# --workers $1 (lib.sh's start_freshet makes a new directory).
restart_freshet() {
  local w=${1%%/*} i envs=()
  [[ "$1" == */* ]] && IFS=, read -r -a envs <<<"${1#*/}"
  kill "$FRESHET_PID" 2>/dev/null
  for i in $(seq 1 600); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$FRESHET_PID" 2>/dev/null
  # shellcheck disable=SC2086
  env "${envs[@]}" "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" --workers "$w" \
    >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  wait_ready "$FRESHET_PORT" 600 "$FRESHET_PID" || { echo "bench: freshet did not restart"; tail -20 "$FRESHET_LOG"; return 1; }
}

declare -A HYD PGT ROWS_FR ROWS_PG EPS NCAUGHT CPU BUSY RSS IDX OPS NOTE TABLES_RATE
for w in "${WLIST[@]}"; do
  if [[ "$w" != "${WLIST[0]}" ]]; then
    restart_freshet "$w" || exit 1
    echo "bench: restarted with --workers $w (pid $FRESHET_PID)"
  fi
  c0=$(cpu_ticks)
  read -r n s <<<"$(ingest)"
  TABLES_RATE[$w]=$(rate "$n" "$s")
  echo "bench: workers $w: tables alone: $n events in $s s = ${TABLES_RATE[$w]} events/s by INSERT (server CPU $(cpu_since "$c0") s, load average $(loadavg))"
  reset_tables || exit 1

  # 4. Each query alone.
  for q in $QUERIES; do
    [[ -n "${SQL[$q]:-}" ]] || { NOTE[$q]="not in nexmark_queries.sql"; continue; }
    echo "bench: workers $w: $q"
    if [[ "$w" == "${WLIST[0]}" ]]; then
      # PostgreSQL: the query once, as CREATE TEMP TABLE AS (materializes every row, as a
      # view's hydration does); median of PG_RUNS, after the first only while they are cheap.
      times=()
      for _ in $(seq 1 "$PG_RUNS"); do
        out=$(psql_to "$PG" -c '\timing on' -c "CREATE TEMP TABLE r AS ${SQL[$q]}" -c 'SELECT count(*) FROM r' 2>&1)
        ms=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | head -1)
        [[ -n "$ms" ]] || { echo "  PostgreSQL failed: $out"; break; }
        times+=("$ms")
        ROWS_PG[$q]=$(grep -E '^[0-9]+$' <<<"$out" | tail -1)
        awk -v ms="$ms" -v lim="$PG_REPEAT_UNDER_S" 'BEGIN { exit !(ms / 1000 >= lim) }' && break
      done
      PGT[$q]=$(printf '%s\n' "${times[@]}" | awk '{ printf "%.3f\n", $1 / 1000 }' | median)
    fi
    # Freshet: view + index. PERF_DIR=dir: perf record (call graphs) of the server during the
    # hydration too, into dir/<query>-<workers>w-hyd.data (the times then include perf's cost).
    rss0=$(rss_kb)
    hperf_pid=""
    if [[ -n "${PERF_DIR:-}" ]]; then
      perf record -q -g -p "$FRESHET_PID" -o "$PERF_DIR/$q-${w}w-hyd.data" >/dev/null 2>&1 &
      hperf_pid=$!
      sleep 0.5
    fi
    c0=$(cpu_ticks)
    t0=$(now_s)
    if ! out=$(psql_to "$FR" -c "CREATE VIEW $q AS ${SQL[$q]}" -c "CREATE INDEX ${q}_idx ON $q (${KEY[$q]})" 2>&1); then
      if [[ -n "$hperf_pid" ]]; then kill -INT "$hperf_pid"; wait "$hperf_pid" 2>/dev/null; fi
      NOTE[$q]="Freshet: $(tr '\n' ' ' <<<"$out" | cut -c1-150)"
      echo "  ${NOTE[$q]}"
      psql_to "$FR" -c "DROP VIEW IF EXISTS $q CASCADE" >/dev/null 2>&1
      continue
    fi
    HYD[$q,$w]=$(since "$t0")
    HCPU=$(cpu_since "$c0") HLOAD=$(loadavg)
    if [[ -n "$hperf_pid" ]]; then kill -INT "$hperf_pid"; wait "$hperf_pid" 2>/dev/null; fi
    RSS[$q]=$(( ($(rss_kb) - rss0) / 1024 ))
    IDX[$q]=$(psql_to "$FR" -c "SELECT round(coalesce(sum(arrangement_bytes), 0) / 1048576.0, 1) FROM mz_arrangement_sizes WHERE object_name = '$q'" 2>/dev/null)
    OPS[$q]=$(psql_to "$FR" -c "SELECT round(coalesce(sum(operator_bytes), 0) / 1048576.0, 1) FROM mz_arrangement_sizes WHERE object_name = '$q'" 2>/dev/null)
    ROWS_FR[$q,$w]=$(psql_to "$FR" -c "SELECT count(*) FROM $q")
    note=""
    [[ "${ROWS_FR[$q,$w]}" == "${ROWS_PG[$q]:-}" ]] || note="row counts differ"
    # Small results: the rows themselves, sorted (psql's text output of both engines).
    if [[ -z "$note" && "${ROWS_FR[$q,$w]}" -le "$COMPARE_ROWS" ]]; then
      psql_to "$FR" -c "SELECT * FROM $q" | LC_ALL=C sort >"$WORK/$q-FR.txt"
      [[ -f "$WORK/$q-PG.txt" ]] || psql_to "$PG" -c "SELECT * FROM (${SQL[$q]}) r" | LC_ALL=C sort >"$WORK/$q-PG.txt"
      if cmp -s "$WORK/$q-FR.txt" "$WORK/$q-PG.txt"; then note="same rows"
      else note="ROWS DIFFER ($(diff "$WORK/$q-PG.txt" "$WORK/$q-FR.txt" | grep -c '^[<>]') lines)"; fi
    fi
    NOTE[$q]="${NOTE[$q]:+${NOTE[$q]}; }${w}w: $note"
    lookup=$(tr ',' '\n' <<<"${KEY[$q]}" | awk '{ printf "%s%s = %s", (NR > 1 ? " AND " : ""), $1, ($1 == "channel" ? "'\'''\''" : "0::bigint") }')
    # Catch-up, REPEATS times: the dataflow paused while the events are inserted, then timed
    # from its resumption until a strict serializable read of the view returns.
    eps=() cpus=() busys=() cpu_per=() rep_out=""
    for r in $(seq 1 "$REPEATS"); do
      psql_to "$FR" -c "ALTER SYSTEM SET unsafe_pause_dataflows = on" >/dev/null || exit 1
      read -r n _ <<<"$(ingest)"
      settle
      # PERF_DIR=dir: perf record (call graphs) of the server during each catch-up, into
      # dir/<query>-<workers>w-<repeat>.data (`perf report --sort comm,symbol -i ...`).
      perf_pid=""
      if [[ -n "${PERF_DIR:-}" ]]; then
        perf record -q -g -p "$FRESHET_PID" -o "$PERF_DIR/$q-${w//[\/=,]/_}w-$r.data" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.5
      fi
      thread_ticks >"$WORK/ticks0"
      t0=$(now_s)
      psql_to "$FR" -c "ALTER SYSTEM SET unsafe_pause_dataflows = off" -c "SELECT count(*) FROM $q WHERE $lookup" >/dev/null || exit 1
      s=$(since "$t0")
      thread_ticks >"$WORK/ticks1"
      if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null; fi
      read -r cpu busy <<<"$(thread_cpu "$WORK/ticks0" "$WORK/ticks1")"
      eps+=("$(rate "$n" "$s")") cpus+=("$cpu") busys+=("$busy")
      rep_out+=" $(rate "$n" "$s")/s (CPU $cpu s, busiest thread $busy s; $(thread_cpu_by_name "$WORK/ticks0" "$WORK/ticks1"))"
      # Back to EVENTS events, the view maintained (untimed).
      reset_tables || exit 1
      psql_to "$FR" -c "SELECT count(*) FROM $q WHERE $lookup" >/dev/null || exit 1
    done
    NCAUGHT[$q,$w]=$n
    EPS[$q,$w]=$(printf '%s\n' "${eps[@]}" | median)
    CPU[$q,$w]=$(printf '%s\n' "${cpus[@]}" | median)
    BUSY[$q,$w]=$(printf '%s\n' "${busys[@]}" | median)
    echo "  hydrate ${HYD[$q,$w]} s (server CPU $HCPU s, load average $HLOAD) (PostgreSQL ${PGT[$q]} s), ${ROWS_FR[$q,$w]} rows, +${RSS[$q]} MB (index ${IDX[$q]} MB, operators ${OPS[$q]} MB); catch-up of $n events:$rep_out; load average $(loadavg)"
    psql_to "$FR" -c "DROP VIEW $q CASCADE" >/dev/null || exit 1
  done
done

# 5. All views at once, idle.
IDLE="-"
if ((IDLE_CPU)); then
  made=0
  for q in $QUERIES; do
    [[ -n "${HYD[$q,${WLIST[-1]}]:-}" ]] || continue
    psql_to "$FR" -c "CREATE VIEW $q AS ${SQL[$q]}" -c "CREATE INDEX ${q}_idx ON $q (${KEY[$q]})" >/dev/null && made=$((made + 1))
  done
  sleep 1
  c0=$(cpu_ticks)
  sleep "$IDLE_SECONDS"
  c1=$(cpu_ticks)
  IDLE=$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v s="$IDLE_SECONDS" 'BEGIN { printf "%.1f", 100 * d / hz / s }')
  echo "bench: idle with $made views maintained: $IDLE% of a core (RSS $(( $(rss_kb) / 1024 )) MB)"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && a != "-" && b != "-" && b > 0) printf "%.2fx", a / b; else print "-" }'; }
per_core() { awk -v n="$1" -v s="$2" 'BEGIN { if (s != "" && s != "-" && s > 0) printf "%.0f", n / s; else print "-" }'; }
W1=${WLIST[0]} W2=${WLIST[-1]}
echo
echo "=== Nexmark: $EVENTS events loaded, then catch-up of $MORE_EVENTS more ($TXN_EVENTS events per step, median of $REPEATS); workers: $WORKERS_LIST ==="
printf '%-5s %9s %9s %8s %9s  %9s %9s %7s  %7s %7s %7s %6s  %9s %9s  %s\n' query "hyd s ${W1}w" "hyd s ${W2}w" "PG s" rows \
  "ev/s ${W1}w" "ev/s ${W2}w" "${W2}w/${W1}w" "CPU ${W1}w" "CPU ${W2}w" busiest bound "ev/CPU-s" "Feldera*" note
for q in $QUERIES; do
  [[ -n "${SQL[$q]:-}" ]] || continue
  printf '%-5s %9s %9s %8s %9s  %9s %9s %7s  %7s %7s %7s %6s  %9s %9s  %s\n' "$q" "${HYD[$q,$W1]:--}" "${HYD[$q,$W2]:--}" "${PGT[$q]:--}" "${ROWS_FR[$q,$W1]:--}" \
    "${EPS[$q,$W1]:--}" "${EPS[$q,$W2]:--}" "$(ratio "${EPS[$q,$W2]:-}" "${EPS[$q,$W1]:-}")" \
    "${CPU[$q,$W1]:--}" "${CPU[$q,$W2]:--}" "${BUSY[$q,$W2]:--}" "$(ratio "${CPU[$q,$W1]:-}" "${BUSY[$q,$W2]:-}")" \
    "$(per_core "${NCAUGHT[$q,$W1]:-}" "${CPU[$q,$W1]:-}")" "${FELDERA[$q]:--}" "${NOTE[$q]:-}"
done
for w in "${WLIST[@]}"; do echo "tables alone (no view), workers $w: ${TABLES_RATE[$w]} events/s by INSERT"; done
if ((${#WLIST[@]} > 2)); then
  echo "per entry of WORKERS_LIST (ev/s, against ${W1}w; CPU, busiest thread, bound = CPU ${W1}w / busiest):"
  for q in $QUERIES; do
    [[ -n "${SQL[$q]:-}" ]] || continue
    for w in "${WLIST[@]:1}"; do
      printf '  %-5s %-36s %9s %7s  %7s %7s %6s\n' "$q" "$w" "${EPS[$q,$w]:--}" "$(ratio "${EPS[$q,$w]:-}" "${EPS[$q,$W1]:-}")" \
        "${CPU[$q,$w]:--}" "${BUSY[$q,$w]:--}" "$(ratio "${CPU[$q,$W1]:-}" "${BUSY[$q,$w]:-}")"
    done
  done
fi
echo "the generator into source tables: $GEN_RATE events/s"
((IDLE_CPU)) && echo "idle CPU with all views maintained ($W2 workers): $IDLE% of a core over $IDLE_SECONDS s"
echo "* Feldera published, per core (events/s); '-' where none is published."
echo "  ev/s: the view's dataflow catching up on $MORE_EVENTS queued events (wall clock; the INSERT path is not in it)."
echo "  CPU: the dataflow threads' CPU seconds during the catch-up (fr-compute + fr-worker; the per-run lines above also name the"
echo "  server's other threads); busiest: the busiest dataflow thread's (the drivers summed), with $W2 workers;"
echo "  bound: CPU with $W1 worker(s) / busiest thread with $W2: the speed-up a free core per worker would give; ev/CPU-s: events per CPU second with $W1 worker(s)."
echo "  hyd s: CREATE VIEW + CREATE INDEX (hydration), PG s: PostgreSQL 15 running the query once (CREATE TEMP TABLE AS)."
