#!/usr/bin/env bash
# pg_sleep(seconds): it sleeps as long as asked, and a cancel request (psql's on SIGINT) or
# statement_timeout stops it within 100 ms (the function polls the statement's cancel flag and
# deadline every 10 ms; issue 9, item 6). Also runs against PostgreSQL (E2E_TARGET=postgres).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=pg_sleep
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
fails=0
TMP=$(mktemp -d /tmp/freshet-pg-sleep.XXXXXX)  # (FRESHET_DATA_DIR is not set against PostgreSQL)
trap 'rm -rf "$TMP"; _e2e_cleanup' EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# What a psql round trip costs on this machine now (connecting, a trivial query).
base=$(for _ in 1 2 3 4 5; do t0=$(now_ms); psql -X -qAt -c "SELECT 1" >/dev/null; echo $(($(now_ms) - t0)); done | median)
echo "     (a psql round trip: median ${base} ms)"

# It sleeps as long as asked.
t0=$(now_ms)
out=$(psql -X -qAt -c "SELECT pg_sleep(0.3)" 2>&1)
ms=$(($(now_ms) - t0))
if [[ "$out" != "" ]]; then echo "FAIL SELECT pg_sleep(0.3) answered: $out"; fails=$((fails + 1))
elif ((ms < 300)); then echo "FAIL pg_sleep(0.3) returned after ${ms} ms"; fails=$((fails + 1))
else echo "ok   pg_sleep(0.3) slept (${ms} ms)"; fi

# statement_timeout: 57014 within 100 ms of the timeout (beyond a psql round trip).
over=$(for _ in 1 2 3 4 5; do
  t0=$(now_ms)
  out=$(psql -X -q -v VERBOSITY=verbose -c "SET statement_timeout = '200ms'" -c "SELECT pg_sleep(30)" 2>&1)
  ms=$(($(now_ms) - t0))
  [[ "$out" == *"ERROR:  57014:"* ]] || echo "FAIL statement_timeout: $out" >&2
  echo $((ms - 200 - base))
done 2> "$TMP/timeout_errors" | median)
if [[ -s "$TMP/timeout_errors" ]]; then cat "$TMP/timeout_errors"; fails=$((fails + 1)); fi
if ((over > 100)); then echo "FAIL statement_timeout stopped pg_sleep a median ${over} ms late"; fails=$((fails + 1))
else echo "ok   statement_timeout stops pg_sleep (median ${over} ms after the timeout, beyond a round trip)"; fi

# A cancel request (psql sends one on SIGINT): 57014 within 100 ms.
lat=$(for _ in 1 2 3 4 5; do
  psql -X -q -v VERBOSITY=verbose -c "SELECT pg_sleep(30)" > "$TMP/cancel_out" 2>&1 &
  pid=$!
  sleep 0.5
  t0=$(now_ms)
  kill -INT "$pid"
  wait "$pid"
  echo $(($(now_ms) - t0))
  grep -q "ERROR:  57014:" "$TMP/cancel_out" || { echo "FAIL cancel: $(cat "$TMP/cancel_out")" >&2; }
done 2> "$TMP/cancel_errors" | median)
if [[ -s "$TMP/cancel_errors" ]]; then cat "$TMP/cancel_errors"; fails=$((fails + 1)); fi
if ((lat > 100)); then echo "FAIL a cancel request stopped pg_sleep after a median ${lat} ms"; fails=$((fails + 1))
else echo "ok   a cancel request stops pg_sleep (median ${lat} ms)"; fi

# The server still answers.
[[ $(psql -X -qAt -c "SELECT 41 + 1" 2>&1) == 42 ]] || { echo "FAIL the server did not answer afterwards"; fails=$((fails + 1)); }

if ((fails)); then e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
e2e_pass $NAME
