# Helpers for the Kafka tests and the benchmark against the real `freshet serve` (not the
# in-memory kafka_test_server of server.sh). Source after lib.sh.
#
#   kf_start DATA_DIR [ARGS...]  starts `freshet serve --data-dir DATA_DIR` with the PostgreSQL,
#                                Kafka and HTTP (schema registry) listeners on free loopback
#                                ports, or on the ports of the previous kf_start (a restart on
#                                the same data dir keeps the addresses clients know); waits until
#                                psql answers. Exports KF_PID KF_LOG PGPORT KAFKA_PORT
#                                REGISTRY_PORT KAFKA_BROKER. Extra ARGS go to `serve`.
#   kf_stop                      SIGTERM to that process (SIGKILL after 20 s); returns its status.
#   kf_alive                     the process is still running.
#   kf_psql SQL                  psql -X -At -v ON_ERROR_STOP=1 -c SQL against it.

kf_start() {
  local dir=$1; shift
  if [[ ! -x "$FRESHET_BIN" ]]; then echo "kf_start: $FRESHET_BIN not built (run make)" >&2; return 1; fi
  mkdir -p "$dir"
  local chosen=0 attempt mark ready=0
  [[ -n "${KF_PG_PORT:-}" && -n "${KAFKA_PORT:-}" && -n "${REGISTRY_PORT:-}" ]] || chosen=1
  : "${KF_PG_PORT:=$(free_port)}" "${KAFKA_PORT:=$(free_port)}" "${REGISTRY_PORT:=$(free_port)}"
  KF_LOG="$dir.log"
  # A port may be taken between free_port and the bind: a first start moves to new ports, a
  # restart (which keeps the addresses clients know) tries the same ones again.
  for attempt in 1 2 3 4 5; do
    export PGHOST=127.0.0.1 PGPORT=$KF_PG_PORT PGUSER=${PGUSER:-freshet} PGDATABASE=${PGDATABASE:-freshet}
    export KAFKA_PORT REGISTRY_PORT KAFKA_BROKER="127.0.0.1:$KAFKA_PORT" KF_PG_PORT
    mark=$(wc -l <"$KF_LOG" 2>/dev/null || echo 0)
    "$FRESHET_BIN" serve --data-dir "$dir" --pg-listen "127.0.0.1:$KF_PG_PORT" \
      --kafka-listen "127.0.0.1:$KAFKA_PORT" --http-listen "127.0.0.1:$REGISTRY_PORT" "$@" >>"$KF_LOG" 2>&1 &
    KF_PID=$!
    export KF_PID KF_LOG
    if wait_ready "$KF_PG_PORT" "${FRESHET_START_TIMEOUT_S:-60}" "$KF_PID"; then ready=1; break; fi
    kill -0 "$KF_PID" 2>/dev/null && break
    tail -n +"$((mark + 1))" "$KF_LOG" | grep -q "Address already in use" || break
    wait "$KF_PID" 2>/dev/null
    if ((chosen)); then
      KF_PG_PORT=$(free_port) KAFKA_PORT=$(free_port) REGISTRY_PORT=$(free_port)
    else
      sleep 1
    fi
  done
  if ((!ready)); then
    echo "kf_start: freshet did not come up; log:" >&2
    tail -n 30 "$KF_LOG" >&2
    return 1
  fi
  local i
  for i in $(seq 1 100); do   # the Kafka listener starts after the PostgreSQL one
    grep -q 'listening for Kafka connections' "$KF_LOG" && return 0
    sleep 0.1
  done
  echo "kf_start: no Kafka listener; log:" >&2
  tail -n 30 "$KF_LOG" >&2
  return 1
}

kf_stop() {
  [[ -n "${KF_PID:-}" ]] || return 0
  local i rc
  kill -TERM "$KF_PID" 2>/dev/null || true
  for i in $(seq 1 200); do kill -0 "$KF_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$KF_PID" 2>/dev/null && { echo "kf_stop: freshet ignored SIGTERM for 20 s" >&2; kill -9 "$KF_PID"; }
  wait "$KF_PID" 2>/dev/null
  rc=$?
  KF_PID=
  return $rc
}

kf_alive() { [[ -n "${KF_PID:-}" ]] && kill -0 "$KF_PID" 2>/dev/null; }

kf_psql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
