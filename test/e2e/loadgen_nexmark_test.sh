#!/usr/bin/env bash
# LOAD GENERATOR NEXMARK through SQL: the three tables with their columns, exactly MAX EVENTS
# events in 1:3:46 proportions, bids and auctions that name auctions and persons that exist,
# the same data for the same SEED, exactly once across a kill -9 mid-stream (the restarted
# source continues at the stored event count), a Nexmark query as an indexed view that agrees
# with the same query run once, bad options rejected with SQLSTATE 22023, and
# mz_source_statuses.rows_per_second agreeing with the growth of rows_total.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=loadgen_nexmark
[[ "$E2E_TARGET" == postgres ]] && { e2e_pass "$NAME (skipped: Freshet-only statements)"; exit 0; }
start_freshet || { e2e_fail $NAME "freshet did not start"; exit 1; }

fail() { e2e_fail $NAME "$1"; exit 1; }
q() { psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
# wait_for SQL EXPECTED [TIMEOUT_S]
wait_for() {
  local out
  for _ in $(seq 1 $((${3:-60} * 5))); do
    out=$(q "$1")
    [[ "$out" == "$2" ]] && return 0
    sleep 0.2
  done
  echo "$out"
  return 1
}

# 1. Columns and counts.
out=$(q "CREATE SOURCE nx FROM LOAD GENERATOR NEXMARK (TICK INTERVAL '20ms', RATE 400, SEED 7, MAX EVENTS 10000) FOR ALL TABLES") ||
  fail "CREATE SOURCE: $out"
out=$(q "SELECT id, name, email_address, credit_card, city, state, date_time, extra FROM person LIMIT 0") || fail "person columns: $out"
out=$(q "SELECT id, item_name, description, initial_bid, reserve, date_time, expires, seller, category, extra FROM auction LIMIT 0") ||
  fail "auction columns: $out"
out=$(q "SELECT auction, bidder, price, channel, url, date_time, extra FROM bid LIMIT 0") || fail "bid columns: $out"
COUNTS="SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM auction), (SELECT count(*) FROM bid)"
out=$(wait_for "$COUNTS" "200 600 9200" 60) || fail "counts after MAX EVENTS 10000: $out (want 200 600 9200)"
sleep 0.5
out=$(q "$COUNTS")
[[ "$out" == "200 600 9200" ]] || fail "the source went on after MAX EVENTS: $out"

# 2. Ids: consecutive from 1000; references to existing rows except within the last 500
#    events (50 ms of event time), where the reference's generator may name an id up to 10
#    ahead of the newest.
out=$(q "SELECT min(id), max(id), count(DISTINCT id) FROM person") ; [[ "$out" == "1000 1199 200" ]] || fail "person ids: $out"
out=$(q "SELECT min(id), max(id), count(DISTINCT id) FROM auction") ; [[ "$out" == "1000 1599 600" ]] || fail "auction ids: $out"
out=$(q "SELECT count(*) FROM bid b WHERE b.date_time < TIMESTAMP '2015-07-15 00:00:00.95'
           AND NOT EXISTS (SELECT 1 FROM auction a WHERE a.id = b.auction)")
[[ "$out" == "0" ]] || fail "bids naming no auction: $out"
out=$(q "SELECT count(*) FROM bid b WHERE b.date_time < TIMESTAMP '2015-07-15 00:00:00.95'
           AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = b.bidder)")
[[ "$out" == "0" ]] || fail "bids naming no person: $out"
out=$(q "SELECT count(*) FROM auction a WHERE a.date_time < TIMESTAMP '2015-07-15 00:00:00.95'
           AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = a.seller)")
[[ "$out" == "0" ]] || fail "auctions naming no seller: $out"
out=$(q "SELECT count(*) FROM auction WHERE expires <= date_time OR reserve < initial_bid OR category NOT BETWEEN 10 AND 14")
[[ "$out" == "0" ]] || fail "auctions breaking the rules: $out"
# Hot auctions: about half the bids go to 1/100 of the auctions.
out=$(q "SELECT count(*) FILTER (WHERE auction % 100 = 0), count(*) FROM bid")
read -r hot all <<<"$out"
[[ "$all" =~ ^[0-9]+$ && "$hot" =~ ^[0-9]+$ && $((hot * 100 / all)) -ge 45 && $((hot * 100 / all)) -le 60 ]] ||
  fail "bids on hot auctions: $out (want ~50%)"

# 3. A Nexmark query (q4-like: average winning price per category) as an indexed view agrees
#    with the same query run once.
Q4="SELECT a.category, count(*) AS n, sum(b.price) AS total FROM auction a JOIN bid b ON a.id = b.auction
      WHERE b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.category"
out=$(q "CREATE VIEW q4ish AS $Q4") || fail "CREATE VIEW: $out"
out=$(q "CREATE INDEX q4ish_idx ON q4ish (category)") || fail "CREATE INDEX: $out"
want=$(q "SELECT * FROM ($Q4) s ORDER BY 1")
got=$(q "SELECT * FROM q4ish ORDER BY 1")
[[ -n "$want" && "$want" == "$got" ]] || fail "indexed view differs from the query: got [$got] want [$want]"

# 4. The same SEED gives the same data; exactly once across a kill -9 mid-stream.
out=$(q "CREATE SOURCE nx2 FROM LOAD GENERATOR NEXMARK (TICK INTERVAL '50ms', RATE 500, SEED 7, MAX EVENTS 30000)
           FOR TABLES (person AS person2, auction AS auction2, bid AS bid2)") || fail "CREATE SOURCE nx2: $out"
out=$(wait_for "SELECT count(*) > 3000 FROM bid2" "t" 30) || fail "nx2 did not start: $out"
kill -9 "$FRESHET_PID"
wait "$FRESHET_PID" 2>/dev/null
"$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
  --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
FRESHET_PID=$!
export FRESHET_PID
wait_ready "$FRESHET_PORT" 60 "$FRESHET_PID" || fail "freshet did not restart"
out=$(wait_for "SELECT (SELECT count(*) FROM person2), (SELECT count(*) FROM auction2), (SELECT count(*) FROM bid2)" \
  "600 1800 27600" 60) || fail "counts after restart: $out (want 600 1800 27600)"
# The first 10,000 events of nx2 are nx's events (same seed), row for row.
for t in person auction bid; do
  out=$(q "SELECT count(*) FROM (SELECT * FROM $t EXCEPT ALL SELECT * FROM ${t}2) d") || fail "EXCEPT $t: $out"
  [[ "$out" == "0" ]] || fail "$t rows of SEED 7 differ between two sources: $out"
done
out=$(q "SELECT count(*), count(DISTINCT date_time) FROM bid2")
[[ "$out" == "27600 27600" ]] || fail "bids duplicated or lost across the restart: $out"
out=$(q "SELECT * FROM q4ish ORDER BY 1")
[[ "$out" == "$got" ]] || fail "the indexed view changed across the restart"

# 5. Bad options.
for bad in "LOAD GENERATOR COUNTER (MAX EVENTS 3)" "LOAD GENERATOR NEXMARK (RATE 0)" "LOAD GENERATOR NEXMARK (MAX EVENTS 'x')" \
           "LOAD GENERATOR NEXMARK (COLOUR 1)"; do
  out=$(psql -X -q -At -v VERBOSITY=verbose -c "CREATE SOURCE bad FROM $bad FOR ALL TABLES" 2>&1)
  [[ "$out" == *"ERROR:  22023"* ]] || fail "CREATE SOURCE bad FROM $bad: want 22023, got: $out"
done

# 6. mz_source_statuses.rows_per_second tells the rate the source writes at (issue 12: it
# showed 73 while a load generator wrote about 5,200 rows/s): within a factor of 3 of the
# growth of rows_total over 3 s.
out=$(q "CREATE SOURCE rate FROM LOAD GENERATOR AUCTION (TICK INTERVAL '1ms') FOR ALL TABLES") || fail "CREATE SOURCE rate: $out"
sleep 3
read -r n0 t0 <<<"$(q "SELECT rows_total, extract(epoch from clock_timestamp()) FROM mz_source_statuses WHERE name = 'rate'")"
sleep 3
read -r n1 t1 rps <<<"$(q "SELECT rows_total, extract(epoch from clock_timestamp()), rows_per_second FROM mz_source_statuses WHERE name = 'rate'")"
measured=$(python3 -c "print(round(($n1 - $n0) / ($t1 - $t0)))")
echo "  rows_per_second $rps, rows_total grew $measured rows/s"
python3 -c "import sys; m, r = $measured, float('$rps'); sys.exit(0 if m > 100 and m / 3 <= r <= m * 3 else 1)" ||
  fail "rows_per_second $rps while rows_total grew $measured rows/s"
out=$(q "DROP SOURCE rate CASCADE") || fail "DROP SOURCE rate: $out"
freshet_alive || fail "freshet died"
e2e_pass $NAME
