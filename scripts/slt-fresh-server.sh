#!/usr/bin/env bash
# Materialize's `reset-server` for scripts/run-slt-corpora.sh: replaces the Freshet started by
# its with_freshet (the pid in $FRESHET_PID_FILE) by a fresh one with an empty data directory,
# on the same ports, as Materialize's runner starts a new server with a new catalog. Run by
# slt_runner --reset-command; exits non-zero when the new server does not come up.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../test/e2e/lib.sh"
: "${FRESHET_PID_FILE:?}" "${FRESHET_DATA_DIR:?}" "${FRESHET_PORT:?}"
# Running (a killed server that its parent has not reaped yet is a zombie: gone).
alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
old=$(cat "$FRESHET_PID_FILE" 2>/dev/null)
if [[ -n "$old" ]]; then
  kill "$old" 2>/dev/null
  for _ in $(seq 1 100); do alive "$old" || break; sleep 0.1; done
  kill -9 "$old" 2>/dev/null
  for _ in $(seq 1 50); do alive "$old" || break; sleep 0.1; done
fi
rm -rf "$FRESHET_DATA_DIR/data"
for attempt in 1 2 3 4 5; do
  # shellcheck disable=SC2086
  "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" \
    --pg-listen "127.0.0.1:$FRESHET_PORT" --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" \
    --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" ${FRESHET_EXTRA_ARGS:-} >>"$FRESHET_LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$FRESHET_PID_FILE"
  if wait_ready "$FRESHET_PORT" "${FRESHET_START_TIMEOUT_S:-60}" "$pid"; then exit 0; fi
  # The old server's ports not yet free: try again.
  kill -0 "$pid" 2>/dev/null && break
  sleep 0.5
done
echo "slt-fresh-server: freshet did not come up on port $FRESHET_PORT" >&2
exit 1
