#!/usr/bin/env bash
# SIGTERM during start-up stops the server within seconds, and loses nothing. Start-up reads
# every table's rows into memory (server/recovery.cpp): with 1M rows that takes seconds, and
# the signal used to wait until it was over (25 s and more at 5M rows). Now a stop there ends
# the process at once (src/main.cpp); the next start recovers the data directory, as after a
# crash. Also: a stop once serving is still the graceful one.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=startup_stop
[[ "$E2E_TARGET" == postgres ]] && { echo "SKIP $NAME: stops a Freshet server during start-up"; exit 0; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
fails=0
fail() { echo "  $1"; fails=$((fails + 1)); }

ROWS=${STARTUP_STOP_ROWS:-1000000}
q "CREATE TABLE ss (k int PRIMARY KEY, v text)" >/dev/null
q "INSERT INTO ss SELECT g, 'row ' || g FROM generate_series(1, $ROWS) g" >/dev/null || fail "load failed"
want=$(q "SELECT count(*), sum(k) FROM ss")

start_server() {
  # shellcheck disable=SC2086
  "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" \
    ${FRESHET_EXTRA_ARGS:-} >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  export FRESHET_PID
}
# Seconds (tenths) until pid exits, at most limit_s; prints the time or "timeout".
wait_exit() {
  local pid=$1 limit_s=$2 i
  for i in $(seq 1 $((limit_s * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; echo "$i"; return 0; }
    sleep 0.1
  done
  echo timeout
}

kill -TERM "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
for round in 1 2; do
  lines_before=$(wc -l <"$FRESHET_LOG")
  start_server
  sleep 0.5
  # Still starting: not listening yet (else this round cannot test the start-up path).
  if tail -n +"$((lines_before + 1))" "$FRESHET_LOG" | grep -q "listening for PostgreSQL"; then
    fail "round $round: start-up with $ROWS rows was over within 0.5 s; raise STARTUP_STOP_ROWS"
    kill -TERM "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
    continue
  fi
  kill -TERM "$FRESHET_PID"
  t=$(wait_exit "$FRESHET_PID" 3)
  if [[ "$t" == timeout ]]; then
    fail "round $round: still running 3 s after SIGTERM during start-up"
    kill -9 "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
  else
    tail -n +"$((lines_before + 1))" "$FRESHET_LOG" | grep -q "received SIGTERM during start-up" ||
      fail "round $round: exited without saying it stopped during start-up"
    echo "  round $round: stopped $((t * 100)) ms after SIGTERM during start-up"
  fi
done

# The next start has every row, and a stop once serving is the graceful one.
start_server
if ! wait_ready "$FRESHET_PORT" "${FRESHET_START_TIMEOUT_S:-120}" "$FRESHET_PID"; then
  fail "did not come up after the stops during start-up"
else
  got=$(q "SELECT count(*), sum(k) FROM ss")
  [[ "$got" == "$want" ]] || fail "rows after the stops: got $got, want $want"
  q "INSERT INTO ss VALUES (0, 'after')" >/dev/null || fail "insert after the stops failed"
  lines_before=$(wc -l <"$FRESHET_LOG")
  kill -TERM "$FRESHET_PID"
  t=$(wait_exit "$FRESHET_PID" 30)
  [[ "$t" == timeout ]] && fail "still running 30 s after SIGTERM while serving"
  tail -n +"$((lines_before + 1))" "$FRESHET_LOG" | grep -q "freshet: stopped" || fail "a stop while serving was not graceful"
  start_server
  if wait_ready "$FRESHET_PORT" "${FRESHET_START_TIMEOUT_S:-120}" "$FRESHET_PID"; then
    got=$(q "SELECT count(*) FROM ss WHERE k = 0")
    [[ "$got" == 1 ]] || fail "the row written after the stops is gone: $got"
  else
    fail "did not come up after the graceful stop"
  fi
fi

if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
