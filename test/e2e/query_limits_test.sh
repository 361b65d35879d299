#!/usr/bin/env bash
# Limits of one-shot queries (src/dataflow/graph.hpp StepLimits, src/server/README.md):
# statement_timeout answers 57014 soon after the timeout; a query over its memory budget
# (query_memory_budget_mb) answers 53200, frees what it held, and the server keeps serving
# (issue 9: a 100,000 x 100,000 cross join under the default budget; LIMITS_ATTEMPTS, 50 or
# 1000 in make test-slow, attempts leave RSS flat); SIGTERM mid-query stops the server within
# 5 s; bad settings answer 22023. The statement_timeout checks also run against PostgreSQL.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=query_limits
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
fails=0
check() {  # check WHAT EXPECTED_SQLSTATE SQL...: the last statement must fail with that SQLSTATE
  local what=$1 want=$2; shift 2
  local args=() s out
  for s in "$@"; do args+=(-c "$s"); done
  out=$(psql -X -q -v VERBOSITY=verbose "${args[@]}" 2>&1)
  if [[ "$out" != *"ERROR:  $want:"* ]]; then
    echo "FAIL $what: wanted SQLSTATE $want, got: $out"; fails=$((fails + 1))
  else
    echo "ok   $what"
  fi
}
alive() {  # the server still answers, quickly
  local out
  out=$(psql -X -qAt -c "SELECT 41 + 1" 2>&1)
  [[ "$out" == 42 ]] || { echo "FAIL server did not answer after $1: $out"; fails=$((fails + 1)); }
}
SLOW="SELECT count(*) FROM generate_series(1, 4000) a, generate_series(1, 4000) b WHERE (a * b) % 7 = 3"

# statement_timeout: the query is cut off soon after its timeout.
t0=$(date +%s%N)
check "statement_timeout 300ms" 57014 "SET statement_timeout = '300ms'" "$SLOW"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 3000)) || { echo "FAIL statement_timeout took ${ms} ms to cut a 300 ms query"; fails=$((fails + 1)); }
echo "     (statement_timeout 300 ms: answered after ${ms} ms)"
alive "statement_timeout"
check "statement_timeout bad value" 22023 "SET statement_timeout = 'soon'"
out=$(psql -X -qAt -c "SET statement_timeout = '2s'" -c "SHOW statement_timeout" 2>&1)
[[ "$out" == 2000 || "$out" == 2s ]] || { echo "FAIL SHOW statement_timeout after SET '2s': $out"; fails=$((fails + 1)); }

if [[ "$E2E_TARGET" != postgres ]]; then
  # The memory budget: a cross join of two 100,000-row series cannot fit a small budget.
  CROSS="SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b"
  check "cross join over a 64 MB budget" 53200 "SET query_memory_budget_mb = 64" "$CROSS"
  check "generate_series(1, 1e10) over a 64 MB budget" 53200 "SET query_memory_budget_mb = 64" \
    "SELECT count(*) FROM generate_series(1, 10000000000)"
  # A query that holds a large table's rows (22 MB) over a 16 MB budget. (A plain count(*)
  # holds no row: scans borrow the table's rows and project them away, src/dataflow/README.md.)
  check "holding a large table's rows over a 16 MB budget" 53200 "CREATE TABLE big AS SELECT x, repeat('y', 100) AS pad FROM generate_series(1, 200000) x" \
    "SET query_memory_budget_mb = 16" "SELECT count(*) FROM (SELECT DISTINCT pad, x FROM big) s"
  out=$(psql -X -qAt -c "SET query_memory_budget_mb = 16" -c "SELECT count(*) FROM big" -c "RESET query_memory_budget_mb" \
    -c "SELECT count(*) FROM (SELECT DISTINCT pad, x FROM big) s" 2>&1)
  [[ "$out" == $'200000\n200000' ]] || { echo "FAIL count(*) FROM big over 16 MB / the DISTINCT with the default budget gave: $out"; fails=$((fails + 1)); }
  # Scan aggregates (src/dataflow/README.md): the groups a part holds, and the hash table of
  # a star join's other input, count against the budget.
  check "a scan aggregate's 200,000 groups over a 16 MB budget" 53200 \
    "SET query_memory_budget_mb = 16" "SELECT x, pad, count(*) FROM big GROUP BY x, pad"
  check "a star join's 200,000-row other input over a 16 MB budget" 53200 \
    "SET query_memory_budget_mb = 16" "SELECT b.pad, count(*) FROM big a JOIN big b ON a.x = b.x GROUP BY b.pad"
  check "query_memory_budget_mb = 0" 22023 "SET query_memory_budget_mb = 0"
  check "query_memory_budget_mb = lots" 22023 "SET query_memory_budget_mb = 'lots'"
  alive "the budget checks"
  # Issue 9's acceptance: the cross join of two 100,000-row series (10^10 rows) fails with
  # 53200 under the default budget (1/16 of the machine's memory) and the server stays up.
  check "100,000 x 100,000 cross join, default budget" 53200 "$CROSS"
  alive "the default-budget cross join"
  # Repeated attempts leave the server's memory where it was. LIMITS_ATTEMPTS (50; make
  # test-slow: 1000) attempts at a 128 MB budget (the same failure, sooner), from 2 clients.
  # RSS is compared after the first 10 (the allocator's steady state) and at the end, once
  # the reaper (src/dataflow/reaper.hpp: it frees failed queries' state after the error is
  # answered, then malloc_trim) is done.
  ATTEMPTS=${LIMITS_ATTEMPTS:-50}
  RSS_BOUND_KB=${LIMITS_RSS_BOUND_KB:-65536}
  pid=${FRESHET_PID:-}
  rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
  settle() {  # waits until RSS stops falling (at most 10 s), prints it
    local prev cur
    prev=$(rss)
    for _ in $(seq 1 20); do sleep 0.5; cur=$(rss); ((cur >= prev - 1024)) && break; prev=$cur; done
    rss
  }
  attempt() {  # attempt N: runs N over-budget cross joins in one client
    local i bad=0
    for ((i = 0; i < $1; i++)); do
      out=$(psql -X -q -v VERBOSITY=verbose -c "SET query_memory_budget_mb = 128" -c "$CROSS" 2>&1)
      [[ "$out" == *"ERROR:  53200:"* ]] || bad=$((bad + 1))
    done
    echo "$bad"
  }
  bad=$(attempt 10)
  before=$(settle)
  t0=$(date +%s)
  rest=$((ATTEMPTS - 10)); ((rest < 0)) && rest=0
  attempt $((rest / 2)) >"$FRESHET_DATA_DIR/bad1" &
  apid=$!
  bad2=$(attempt $((rest - rest / 2)))
  wait "$apid"
  bad=$((bad + $(cat "$FRESHET_DATA_DIR/bad1") + bad2))
  after=$(settle)
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  echo "     ($ATTEMPTS over-budget cross joins in $(($(date +%s) - t0 + 0)) s: RSS after 10: ${before} kB," \
    "after $ATTEMPTS: ${after} kB, peak ${hwm} kB)"
  ((bad == 0)) || { echo "FAIL $bad of $ATTEMPTS attempts did not answer 53200"; fails=$((fails + 1)); }
  if [[ -n "$pid" ]] && ((after > before + RSS_BOUND_KB)); then
    echo "FAIL RSS grew from ${before} kB to ${after} kB over $ATTEMPTS over-budget queries"; fails=$((fails + 1))
  else
    echo "ok   RSS flat over $ATTEMPTS over-budget queries (bound +${RSS_BOUND_KB} kB)"
  fi
  alive "$ATTEMPTS over-budget queries"
fi

freshet_alive || { echo "FAIL freshet exited"; fails=$((fails + 1)); }
if [[ "$E2E_TARGET" != postgres && -n "${FRESHET_PID:-}" ]]; then
  # SIGTERM in the middle of a long query: the server stops within a few seconds.
  psql -X -q -c "SELECT sum(g) FROM generate_series(1, 400000000) g" >/dev/null 2>&1 &
  qpid=$!
  sleep 1
  t0=$(date +%s%N)
  kill -TERM "$FRESHET_PID"
  for _ in $(seq 1 100); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.05; done
  ms=$((($(date +%s%N) - t0) / 1000000))
  if kill -0 "$FRESHET_PID" 2>/dev/null; then
    echo "FAIL SIGTERM mid-query: the server still runs after ${ms} ms"; fails=$((fails + 1))
  else
    echo "ok   SIGTERM mid-query: stopped after ${ms} ms"
  fi
  wait "$qpid" 2>/dev/null
fi
stop_freshet
if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
