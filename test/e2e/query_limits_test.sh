#!/usr/bin/env bash
# Limits of one-shot queries (src/dataflow/graph.hpp StepLimits, src/server/README.md):
# statement_timeout answers 57014 soon after the timeout; a query over its memory budget
# (query_memory_budget_mb) answers 53200, frees what it held, and the server keeps serving;
# bad settings answer 22023. The statement_timeout checks also run against PostgreSQL.
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
  check "a large snapshot over a 16 MB budget" 53200 "CREATE TABLE big AS SELECT x, repeat('y', 100) AS pad FROM generate_series(1, 200000) x" \
    "SET query_memory_budget_mb = 16" "SELECT count(*) FROM big"
  out=$(psql -X -qAt -c "SELECT count(*) FROM big" 2>&1)
  [[ "$out" == 200000 ]] || { echo "FAIL with the default budget, SELECT count(*) FROM big gave: $out"; fails=$((fails + 1)); }
  check "query_memory_budget_mb = 0" 22023 "SET query_memory_budget_mb = 0"
  check "query_memory_budget_mb = lots" 22023 "SET query_memory_budget_mb = 'lots'"
  alive "the budget checks"
  # Repeated attempts leave the server's memory where it was.
  pid=${FRESHET_PID:-}
  rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
  before=$(rss)
  for i in $(seq 1 30); do
    psql -X -q -c "SET query_memory_budget_mb = 256" -c "$CROSS" >/dev/null 2>&1
  done
  # A failed query's rows are freed on a background thread (src/dataflow/reaper.hpp) after
  # the error is answered: give it a moment.
  for _ in $(seq 1 50); do (( $(rss) <= before + 200000 )) && break; sleep 0.1; done
  after=$(rss)
  echo "     (RSS before 30 over-budget cross joins: ${before} kB, after: ${after} kB)"
  if [[ -n "$pid" ]] && ((after > before + 200000)); then
    echo "FAIL RSS grew from ${before} kB to ${after} kB over 30 over-budget queries"; fails=$((fails + 1))
  fi
  alive "30 over-budget queries"
fi

freshet_alive || { echo "FAIL freshet exited"; fails=$((fails + 1)); }
stop_freshet
if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
