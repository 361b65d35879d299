# Shared helpers for end-to-end tests, the sqllogictest suites, the demo and the benchmark.
# Source it from bash:  source "$(dirname "$0")/lib.sh"
#
#   start_freshet        starts `freshet serve` on a free loopback port with a temp data dir and
#                        exports PGHOST/PGPORT/PGUSER/PGDATABASE (role and database `freshet`).
#                        FRESHET_COMMAND=demo starts `freshet demo` instead (same flags).
#                        With E2E_TARGET=postgres it starts a throwaway PostgreSQL 15 cluster
#                        instead (same role and database names), to validate a test's
#                        expectations against the reference implementation.
#   stop_freshet         stops it and removes the data dir (also done by the EXIT trap).
#   start_postgres/stop_postgres   always PostgreSQL (the benchmark runs both side by side);
#                        exports PG_REF_PORT.
#   free_port            prints a free TCP port on 127.0.0.1.
#   e2e_pass NAME / e2e_fail NAME MSG   print the result lines run-all.sh counts.

E2E_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FRESHET_ROOT="$(cd "$E2E_LIB_DIR/../.." && pwd)"
: "${FRESHET_BIN:=$FRESHET_ROOT/build/release/freshet}"
: "${E2E_TARGET:=freshet}"
: "${PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${PG_OS_USER:=pgtest}"   # initdb refuses to run as root; this user owns the clusters.

_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  # Below the kernel's ephemeral range (client sockets take ports from it at any time, so a
  # port found free there may be taken before the server binds it).
  local lo=32768 p i
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
  local base=10000 span=$((lo - 10000))
  ((span >= 2000)) || { base=20000; span=40000; }
  for i in $(seq 1 200); do
    p=$((base + (RANDOM * 32768 + RANDOM) % span))
    if ! _port_in_use "$p"; then echo "$p"; return 0; fi
  done
  echo "free_port: no free port found" >&2
  return 1
}

# wait_ready PORT TIMEOUT_S PID: until a libpq client can run a query (or the process dies).
wait_ready() {
  local port=$1 timeout_s=$2 pid=${3:-} i
  for i in $(seq 1 $((timeout_s * 10))); do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if psql -X -q -h 127.0.0.1 -p "$port" -U "${PGUSER:-freshet}" -d "${PGDATABASE:-freshet}" \
         -c 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

_as_pg_user() {
  if [[ $(id -u) -eq 0 ]]; then
    id "$PG_OS_USER" >/dev/null 2>&1 || useradd -m "$PG_OS_USER"
    su "$PG_OS_USER" -s /bin/bash -c "$1"
  else
    bash -c "$1"
  fi
}

# start_postgres: a throwaway cluster with role and database `freshet` (superuser, trust).
start_postgres() {
  PG_REF_DIR=$(mktemp -d /tmp/freshet-pg.XXXXXX)
  chmod 755 "$PG_REF_DIR"
  [[ $(id -u) -eq 0 ]] && { id "$PG_OS_USER" >/dev/null 2>&1 || useradd -m "$PG_OS_USER"; chown "$PG_OS_USER" "$PG_REF_DIR"; }
  PG_REF_PORT=$(free_port)
  _as_pg_user "'$PG_BIN/initdb' -D '$PG_REF_DIR/data' -A trust -U freshet >'$PG_REF_DIR/initdb.log' 2>&1" \
    || { echo "start_postgres: initdb failed:"; cat "$PG_REF_DIR/initdb.log"; return 1; }
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$PG_REF_DIR/data' -l '$PG_REF_DIR/log' -w -t 60 \
     -o \"-p $PG_REF_PORT -k '$PG_REF_DIR' -c listen_addresses=127.0.0.1 -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
         -c shared_buffers=256MB\" start >/dev/null" \
    || { echo "start_postgres: pg_ctl start failed:"; cat "$PG_REF_DIR/log"; return 1; }
  psql -X -q -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d postgres -c 'CREATE DATABASE freshet' >/dev/null
  export PG_REF_PORT PG_REF_DIR
}

stop_postgres() {
  [[ -n "${PG_REF_DIR:-}" && -d "$PG_REF_DIR" ]] || return 0
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$PG_REF_DIR/data' -m immediate stop >/dev/null 2>&1" || true
  rm -rf "$PG_REF_DIR"
  PG_REF_DIR=
}

start_freshet() {
  export PGHOST=127.0.0.1 PGUSER=freshet PGDATABASE=freshet
  if [[ "$E2E_TARGET" == postgres ]]; then
    start_postgres || return 1
    export PGPORT=$PG_REF_PORT
    FRESHET_PORT=$PG_REF_PORT
    export FRESHET_PORT
    trap '_e2e_cleanup' EXIT
    return 0
  fi
  if [[ ! -x "$FRESHET_BIN" ]]; then
    echo "start_freshet: $FRESHET_BIN not built (run make)" >&2
    return 1
  fi
  FRESHET_DATA_DIR=$(mktemp -d /tmp/freshet-e2e.XXXXXX)
  FRESHET_LOG="$FRESHET_DATA_DIR/freshet.log"
  trap '_e2e_cleanup' EXIT
  local attempt
  for attempt in 1 2 3; do
    FRESHET_PORT=$(free_port)
    # The Kafka API and the schema registry on free ports too, so that tests never collide
    # with each other or with anything on the default ports. FRESHET_EXTRA_ARGS adds flags.
    FRESHET_KAFKA_PORT=$(free_port)
    FRESHET_HTTP_PORT=$(free_port)
    # FRESHET_SETSID=1: the server in a session of its own, so that the kernel's scheduler
    # autogroups give it its own share of the CPU, as pg_ctl gives PostgreSQL (bench/README.md,
    # "Wall time, CPU and the scheduler"). In a script (no job control) the background child is
    # not a process group leader, so setsid execs in place and $! is the server.
    # shellcheck disable=SC2086
    ${FRESHET_SETSID:+setsid} "$FRESHET_BIN" "${FRESHET_COMMAND:-serve}" --data-dir "$FRESHET_DATA_DIR/data" \
      --pg-listen "127.0.0.1:$FRESHET_PORT" --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" \
      --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" ${FRESHET_EXTRA_ARGS:-} >"$FRESHET_LOG" 2>&1 &
    FRESHET_PID=$!
    export PGPORT=$FRESHET_PORT FRESHET_PORT FRESHET_KAFKA_PORT FRESHET_HTTP_PORT FRESHET_PID FRESHET_DATA_DIR FRESHET_LOG
    if wait_ready "$FRESHET_PORT" "${FRESHET_START_TIMEOUT_S:-60}" "$FRESHET_PID"; then return 0; fi
    # A port taken between choosing it and binding it: choose again.
    if ! kill -0 "$FRESHET_PID" 2>/dev/null && grep -q "Address already in use" "$FRESHET_LOG"; then
      wait "$FRESHET_PID" 2>/dev/null
      continue
    fi
    break
  done
  echo "start_freshet: freshet did not come up on port $FRESHET_PORT; log:" >&2
  tail -n 30 "$FRESHET_LOG" >&2
  return 1
}

# restart_freshet SIGNAL: stops the server started by start_freshet with SIGNAL (TERM, KILL,
# ...) and starts it again on the same data directory, ports and FRESHET_EXTRA_ARGS; returns 1
# (after printing the log's tail) when it does not come up within FRESHET_START_TIMEOUT_S.
restart_freshet() {
  kill -s "$1" "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
  # shellcheck disable=SC2086
  "$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
    --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" \
    ${FRESHET_EXTRA_ARGS:-} >>"$FRESHET_LOG" 2>&1 &
  FRESHET_PID=$!
  export FRESHET_PID
  wait_ready "$FRESHET_PORT" "${FRESHET_START_TIMEOUT_S:-60}" "$FRESHET_PID" && return 0
  echo "restart_freshet: freshet did not come up after SIG$1; log:" >&2
  tail -n 30 "$FRESHET_LOG" >&2
  return 1
}

stop_freshet() {
  if [[ "$E2E_TARGET" == postgres ]]; then stop_postgres; return 0; fi
  if [[ -n "${FRESHET_PID:-}" ]]; then
    kill "$FRESHET_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$FRESHET_PID" 2>/dev/null || true
    wait "$FRESHET_PID" 2>/dev/null || true
    FRESHET_PID=
  fi
  if [[ -n "${FRESHET_DATA_DIR:-}" && -d "$FRESHET_DATA_DIR" ]]; then
    if [[ -n "${E2E_KEEP_LOGS:-}" ]]; then echo "freshet log kept in $FRESHET_LOG" >&2
    else rm -rf "$FRESHET_DATA_DIR"; fi
    FRESHET_DATA_DIR=
  fi
}

# freshet_alive: the server process is still running (a test can check it did not crash).
freshet_alive() {
  [[ "$E2E_TARGET" == postgres ]] && return 0
  kill -0 "$FRESHET_PID" 2>/dev/null
}

_e2e_cleanup() { stop_freshet; stop_postgres; }

e2e_pass() { echo "PASS $1"; }
e2e_fail() {
  echo "FAIL $1: $2"
  if [[ "$E2E_TARGET" != postgres && -n "${FRESHET_LOG:-}" && -f "$FRESHET_LOG" ]]; then
    echo "--- last lines of the freshet log:"; tail -n 20 "$FRESHET_LOG"
  fi
}
