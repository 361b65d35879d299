#!/usr/bin/env bash
# Memory and speed of the index arrangement of maintained Nexmark views (issue 9, item 4: memory
# per arranged row). Per query of bench/nexmark_queries.sql, over EVENTS Nexmark events in plain
# tables (LOAD GENERATOR NEXMARK, SEED 1, as bench/nexmark.sh loads them):
#   hydrate   CREATE VIEW + CREATE INDEX: wall seconds and the server's CPU seconds;
#   RSS       the server's resident memory after hydration minus before (MB), and per event;
#             peak: its peak during the hydration (VmHWM, reset first) minus before. Both read
#             low for a view after others were dropped (the allocator reuses what they freed);
#   index     the index arrangement's bytes (mz_arrangement_sizes.arrangement_bytes) and per
#             record; ops: the operators' state (operator_bytes: join/reduce/window state);
#   count     SELECT count(*) of the view, COUNTS times: server CPU ms per count;
#   lookup    LOOKUPS point SELECTs on the index key (`key = v::bigint`, v over the key's range)
#             from one psql: server CPU µs per lookup;
#   churn     INSERT a copy of every 10th bid (negated price) in one transaction, a strict read
#             of the view, DELETE them again: server CPU seconds (maintenance of the view and
#             its arrangement).
#
#   EVENTS=1000000 QUERIES="q0 q4 q9 q18 q19" bench/index_memory.sh
#   RESTART=1 ...   the server restarted (same data directory) before each query, so that RSS
#                   is measured over the tables alone, not over memory freed by earlier views
#   FRESHET_BIN=/path/to/other/freshet bench/index_memory.sh      (another build, same data)
#   KEEP_DATA=dir ...  the loaded data directory kept in dir (made on the first run, reused by
#                   later runs with the same EVENTS: at 5M-10M events the load takes longest)
#   PG=1 ...        PostgreSQL 15 runs each query once too (CREATE TEMP TABLE AS, wall seconds)
#   IDLE_SECONDS=N ...  at the end every view of QUERIES indexed at once, the server's CPU while
#                   idle over N seconds (% of a core)
# bench/README.md ("Memory per arranged row") has runs.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${EVENTS:=1000000}" "${LOAD_EVENTS:=500000}" "${SEED:=1}" "${COUNTS:=5}" "${LOOKUPS:=2000}" "${CHURN:=1}"
: "${QUERIES:=q0 q4 q9 q18 q19}" "${RESTART:=0}" "${KEEP_DATA:=}" "${PG:=0}" "${IDLE_SECONDS:=0}"

WORK=$(mktemp -d /tmp/freshet-bench-idxmem.XXXXXX)
cleanup() {
  if [[ -n "$KEEP_DATA" && -n "${FRESHET_PID:-}" ]]; then
    kill "$FRESHET_PID" 2>/dev/null
    for _ in $(seq 1 600); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
    FRESHET_PID=
  fi
  stop_freshet; stop_postgres; rm -rf "$WORK"
}
trap cleanup EXIT
psql_to() { psql -X -q -A -t -h 127.0.0.1 -p "$FRESHET_PORT" -U freshet -d freshet -v ON_ERROR_STOP=1 "$@"; }
now_s() { date +%s.%N; }
since() { awk -v a="$(now_s)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$FRESHET_PID/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$FRESHET_PID/status"; }
reset_hwm() { echo 5 >"/proc/$FRESHET_PID/clear_refs" 2>/dev/null; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FRESHET_PID/stat"; }
cpu_s() { awk -v a="$(cpu_ticks)" -v b="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (a - b) / hz }'; }

declare -A SQL KEY
while IFS=$'\x1f' read -r name key text; do
  SQL[$name]=$text KEY[$name]=$key
done < <(awk '
  /^-- name: / { if (name != "") print name "\x1f" key "\x1f" text; name = $3; key = $5; text = ""; next }
  name != "" && !/^--/ { text = text " " $0 }
  END { if (name != "") print name "\x1f" key "\x1f" text }' "$BENCH_DIR/nexmark_queries.sql")

((PG)) && { start_postgres || exit 1; }
reused=0
if [[ -n "$KEEP_DATA" && -f "$KEEP_DATA/events" && "$(cat "$KEEP_DATA/events")" == "$EVENTS" ]]; then
  # lib.sh's start_freshet makes a new data directory: start there, then move to the kept one.
  E2E_TARGET=freshet start_freshet || exit 1
  reused=1
else
  [[ -n "$KEEP_DATA" ]] && { rm -rf "$KEEP_DATA"; mkdir -p "$KEEP_DATA"; }
  E2E_TARGET=freshet start_freshet || exit 1
fi
trap cleanup EXIT
echo "bench: $FRESHET_BIN, pid $FRESHET_PID; EVENTS=$EVENTS load average $(cut -d' ' -f1 /proc/loadavg)"

load_tables() {
psql_to -c "CREATE SOURCE nx FROM LOAD GENERATOR NEXMARK (TICK INTERVAL '10ms', RATE 10000, SEED $SEED, MAX EVENTS $EVENTS)
            FOR TABLES (person AS gen_person, auction AS gen_auction, bid AS gen_bid)" >/dev/null || return 1
t0=$(now_s)
until [[ "$(psql_to -c "SELECT rows_total FROM mz_source_statuses WHERE name = 'nx'")" == "$EVENTS" ]]; do
  [[ $(since "$t0" | cut -d. -f1) -gt 1800 ]] && { echo "bench: generator stuck"; return 1; }
  sleep 0.5
done
psql_to -c "CREATE TABLE person (id bigint NOT NULL, name text NOT NULL, email_address text NOT NULL, credit_card text NOT NULL,
       city text NOT NULL, state text NOT NULL, date_time timestamp NOT NULL, extra text NOT NULL);
     CREATE TABLE auction (id bigint NOT NULL, item_name text NOT NULL, description text NOT NULL, initial_bid bigint NOT NULL,
       reserve bigint NOT NULL, date_time timestamp NOT NULL, expires timestamp NOT NULL, seller bigint NOT NULL,
       category bigint NOT NULL, extra text NOT NULL);
     CREATE TABLE bid (auction bigint NOT NULL, bidder bigint NOT NULL, price bigint NOT NULL, channel text NOT NULL,
       url text NOT NULL, date_time timestamp NOT NULL, extra text NOT NULL);" >/dev/null || return 1
# In slices of LOAD_EVENTS events by event time (100 µs per event, as bench/nexmark.sh): one
# write is at most 256 MB, and a slice by bidder passed it at 5M events (hot bidders).
for t in person auction bid; do
  for ((lo = 0; lo < EVENTS; lo += LOAD_EVENTS)); do
    hi=$((lo + LOAD_EVENTS < EVENTS ? lo + LOAD_EVENTS : EVENTS))
    psql_to -c "INSERT INTO $t SELECT * FROM gen_$t WHERE date_time >= TIMESTAMP '2015-07-15' + interval '$((lo / 10000)) seconds'
                AND date_time < TIMESTAMP '2015-07-15' + interval '$((hi / 10000)) seconds'" >/dev/null || return 1
  done
done
psql_to -c "DROP SOURCE nx CASCADE" >/dev/null || return 1
# Every table read once, so that no figure below includes building the tables' read copies.
got=$(psql_to -c "SELECT (SELECT count(*) FROM person) + (SELECT count(*) FROM auction) + (SELECT count(*) FROM bid)")
[[ "$got" == "$EVENTS" ]] || { echo "bench: loaded $got events, want $EVENTS"; return 1; }
echo "bench: $EVENTS events loaded in $(since "$t0") s, RSS $(( $(rss_kb) / 1024 )) MB"

}
# Stops the server and starts it again on the same data directory (the tables recovered).
restart_server() {
  kill "$FRESHET_PID" 2>/dev/null
  for _ in $(seq 1 300); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$FRESHET_PID" 2>/dev/null
  # shellcheck disable=SC2086
  "$FRESHET_BIN" serve --data-dir "$DATA" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" ${FRESHET_EXTRA_ARGS:-} >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  export FRESHET_PID
  wait_ready "$FRESHET_PORT" 600 "$FRESHET_PID" || { echo "bench: the server did not come back"; tail -20 "$FRESHET_LOG"; exit 1; }
  psql_to -c "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM auction), (SELECT count(*) FROM bid)" >/dev/null
}

DATA=$FRESHET_DATA_DIR/data
if ((reused)); then
  DATA=$KEEP_DATA/data
  restart_server
  echo "bench: reused $KEEP_DATA ($EVENTS events), RSS $(( $(rss_kb) / 1024 )) MB"
else
  load_tables || exit 1
  if [[ -n "$KEEP_DATA" ]]; then
    kill "$FRESHET_PID"; for _ in $(seq 1 600); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
    mv "$FRESHET_DATA_DIR/data" "$KEEP_DATA/data" && echo "$EVENTS" >"$KEEP_DATA/events"
    DATA=$KEEP_DATA/data
    restart_server
  fi
fi
# PostgreSQL: the same rows (exported from Freshet, COPY, VACUUM ANALYZE).
declare -A PGT
if ((PG)); then
  psql_pg() { psql -X -q -A -t -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d freshet -v ON_ERROR_STOP=1 "$@"; }
  psql_pg -c "CREATE TABLE person (id bigint NOT NULL, name text NOT NULL, email_address text NOT NULL, credit_card text NOT NULL,
       city text NOT NULL, state text NOT NULL, date_time timestamp NOT NULL, extra text NOT NULL);
     CREATE TABLE auction (id bigint NOT NULL, item_name text NOT NULL, description text NOT NULL, initial_bid bigint NOT NULL,
       reserve bigint NOT NULL, date_time timestamp NOT NULL, expires timestamp NOT NULL, seller bigint NOT NULL,
       category bigint NOT NULL, extra text NOT NULL);
     CREATE TABLE bid (auction bigint NOT NULL, bidder bigint NOT NULL, price bigint NOT NULL, channel text NOT NULL,
       url text NOT NULL, date_time timestamp NOT NULL, extra text NOT NULL);" >/dev/null || exit 1
  for t in person auction bid; do
    psql_to -F $'\t' -c "SELECT * FROM $t" >"$WORK/$t.tsv" || exit 1
    psql_pg -c "\\copy $t FROM '$WORK/$t.tsv'" >/dev/null || exit 1
    rm -f "$WORK/$t.tsv"
  done
  psql_pg -c 'VACUUM ANALYZE' >/dev/null
  for q in $QUERIES; do
    [[ -n "${SQL[$q]:-}" ]] || continue
    out=$(psql_pg -c '\timing on' -c "CREATE TEMP TABLE r AS ${SQL[$q]}" 2>&1)
    PGT[$q]=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | head -1 | awk '{ printf "%.2f", $1 / 1000 }')
  done
  stop_postgres
  echo "bench: PostgreSQL: $(for q in $QUERIES; do printf '%s %s s  ' "$q" "${PGT[$q]:--}"; done)"
fi

printf '%-5s %9s %8s %9s %8s %8s %10s %9s %9s %8s %9s %10s %10s %9s %6s\n' query "hydrate s" "CPU s" records "RSS MB" "peak MB" "B/event" "index MB" "B/record" "ops MB" \
  "count ms" "lookup µs" "churn CPU s" "load" "PG s"
for q in $QUERIES; do
  [[ -n "${SQL[$q]:-}" ]] || { echo "bench: $q is not in nexmark_queries.sql"; continue; }
  ((RESTART)) && restart_server
  reset_hwm
  rss0=$(rss_kb) c0=$(cpu_ticks) t0=$(now_s)
  psql_to -c "CREATE VIEW $q AS ${SQL[$q]}" -c "CREATE INDEX ${q}_idx ON $q (${KEY[$q]})" >/dev/null || exit 1
  hyd=$(since "$t0") hcpu=$(cpu_s "$c0")
  drss=$(( $(rss_kb) - rss0 )) dpeak=$(( $(hwm_kb) - rss0 ))
  read -r records arr ops <<<"$(psql_to -F ' ' -c "SELECT sum(records), sum(arrangement_bytes), sum(operator_bytes) FROM mz_arrangement_sizes WHERE object_name = '$q'")"
  # count(*), COUNTS times.
  c0=$(cpu_ticks)
  for _ in $(seq 1 "$COUNTS"); do psql_to -c "SELECT count(*) FROM $q" >/dev/null; done
  count_ms=$(awk -v s="$(cpu_s "$c0")" -v n="$COUNTS" 'BEGIN { printf "%.0f", 1000 * s / n }')
  # Point lookups over the key's values (the first key column's range; others 0 / '').
  first=${KEY[$q]%%,*}
  read -r lo hi <<<"$(psql_to -F ' ' -c "SELECT min($first), max($first) FROM $q" 2>/dev/null)"
  if [[ "$first" == channel || -z "$lo" || "$LOOKUPS" == 0 ]]; then
    lookup_us="-"
  else
    awk -v n="$LOOKUPS" -v lo="$lo" -v hi="$hi" -v q="$q" -v key="${KEY[$q]}" 'BEGIN {
      k = split(key, cols, ",")
      for (i = 0; i < n; i++) {
        v = lo + int((hi - lo + 1) * i / n)
        w = cols[1] " = " v "::bigint"
        for (j = 2; j <= k; j++) w = w " AND " cols[j] " = 0::bigint"
        print "SELECT * FROM " q " WHERE " w ";"
      }
    }' >"$WORK/lookups.sql"
    c0=$(cpu_ticks)
    psql_to -f "$WORK/lookups.sql" >/dev/null || exit 1
    lookup_us=$(awk -v s="$(cpu_s "$c0")" -v n="$LOOKUPS" 'BEGIN { printf "%.0f", 1e6 * s / n }')
  fi
  churn="-"
  if ((CHURN)); then
    c0=$(cpu_ticks)
    psql_to -c "INSERT INTO bid SELECT auction, bidder, -price - 1, channel, url, date_time, extra FROM bid WHERE bidder % 10 = 0" \
      -c "SELECT count(*) FROM $q WHERE ${first} = 0::bigint" -c "DELETE FROM bid WHERE price < 0" \
      -c "SELECT count(*) FROM $q WHERE ${first} = 0::bigint" >/dev/null 2>&1 || { [[ "$first" == channel ]] || exit 1; }
    churn=$(cpu_s "$c0")
  fi
  printf '%-5s %9s %8s %9s %8s %8s %10s %9s %9s %8s %9s %10s %10s %9s %6s\n' "$q" "$hyd" "$hcpu" "$records" "$((drss / 1024))" "$((dpeak / 1024))" \
    "$(awk -v r="$drss" -v e="$EVENTS" 'BEGIN { printf "%.0f", r * 1024 / e }')" \
    "$(awk -v b="$arr" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    "$(awk -v b="$arr" -v r="$records" 'BEGIN { if (r > 0) printf "%.1f", b / r; else print "-" }')" \
    "$(awk -v b="$ops" 'BEGIN { printf "%.1f", b / 1048576 }')" "$count_ms" "$lookup_us" "$churn" "$(cut -d' ' -f1 /proc/loadavg)" "${PGT[$q]:--}"
  psql_to -c "DROP VIEW $q CASCADE" >/dev/null || exit 1
done
if ((IDLE_SECONDS > 0)); then
  ((RESTART)) && restart_server
  made=0
  for q in $QUERIES; do
    psql_to -c "CREATE VIEW $q AS ${SQL[$q]}" -c "CREATE INDEX ${q}_idx ON $q (${KEY[$q]})" >/dev/null && made=$((made + 1))
  done
  sleep 2
  c0=$(cpu_ticks); sleep "$IDLE_SECONDS"
  echo "bench: idle with $made views maintained: $(awk -v s="$(cpu_s "$c0")" -v n="$IDLE_SECONDS" 'BEGIN { printf "%.2f", 100 * s / n }')% of a core over $IDLE_SECONDS s (RSS $(( $(rss_kb) / 1024 )) MB, load average $(cut -d' ' -f1 /proc/loadavg))"
  for q in $QUERIES; do psql_to -c "DROP VIEW IF EXISTS $q CASCADE" >/dev/null; done
fi
echo "bench: RSS at the end $(( $(rss_kb) / 1024 )) MB (views dropped; the allocator keeps freed memory, so later RSS deltas can read low)"
