# Helpers for the Kafka end-to-end tests (test/e2e/kafka_*_test.sh). Source after lib.sh.
#
#   start_kafka_server [ARGS...]  starts src/kafka's kafka_test_server (KafkaServer + schema
#                                 registry over an in-memory backend with sample topics) on
#                                 free ports; exports KAFKA_PORT, REGISTRY_PORT, KAFKA_BROKER.
#   stop_kafka_server             stops it (also done by the EXIT trap).
#   kafka_server_alive            it is still running.

: "${KAFKA_TEST_SERVER:=$FRESHET_ROOT/${BUILD_DIR:-build/release}/src/kafka/kafka_test_server}"

start_kafka_server() {
  if [[ ! -x "$KAFKA_TEST_SERVER" ]]; then
    echo "start_kafka_server: $KAFKA_TEST_SERVER not built (run make)" >&2
    return 1
  fi
  KAFKA_DIR=$(mktemp -d /tmp/freshet-kafka.XXXXXX)
  KAFKA_LOG="$KAFKA_DIR/server.log"
  trap 'stop_kafka_server' EXIT
  local i attempt
  # A port may be taken between free_port and the bind (other tests on this machine): then
  # new ports are chosen.
  for attempt in 1 2 3 4 5; do
    KAFKA_PORT=$(free_port)
    REGISTRY_PORT=$(free_port)
    "$KAFKA_TEST_SERVER" --port "$KAFKA_PORT" --registry-port "$REGISTRY_PORT" "$@" >"$KAFKA_LOG" 2>&1 &
    KAFKA_PID=$!
    KAFKA_BROKER="127.0.0.1:$KAFKA_PORT"
    export KAFKA_PORT REGISTRY_PORT KAFKA_BROKER KAFKA_PID KAFKA_DIR KAFKA_LOG
    for i in $(seq 1 100); do
      grep -q '^ready' "$KAFKA_LOG" 2>/dev/null && return 0
      kill -0 "$KAFKA_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$KAFKA_PID" 2>/dev/null && break
    grep -q "Address already in use" "$KAFKA_LOG" || break
  done
  echo "start_kafka_server: did not come up; log:" >&2
  tail -n 20 "$KAFKA_LOG" >&2
  return 1
}

stop_kafka_server() {
  if [[ -n "${KAFKA_PID:-}" ]]; then
    kill "$KAFKA_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$KAFKA_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$KAFKA_PID" 2>/dev/null || true
    wait "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=
  fi
  if [[ -n "${KAFKA_DIR:-}" && -d "$KAFKA_DIR" && -z "${KAFKA_KEEP_DIR:-}" ]]; then
    rm -rf "$KAFKA_DIR"
    KAFKA_DIR=
  fi
}

kafka_server_alive() { [[ -n "${KAFKA_PID:-}" ]] && kill -0 "$KAFKA_PID" 2>/dev/null; }
