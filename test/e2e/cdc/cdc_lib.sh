# Helpers of the CDC acceptance tests (test/e2e/cdc_*_test.sh) and bench/cdc_latency.sh.
# Source after test/e2e/lib.sh:  source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
#
#   cdc_freshet_start DIR      `freshet serve` on DIR/data (kept across restarts), Kafka and HTTP
#                              off, a free port kept in CDC_FRESHET_PORT; PID in CDC_FRESHET_PID.
#   cdc_freshet_kill9 / cdc_freshet_stop
#   fsql SQL                   psql -XAt against Freshet (unaligned, '|' separated); ON_ERROR_STOP.
#   cdc_pg_start [WAL_LEVEL]   a PostgreSQL 15 cluster (as $PG_OS_USER) with wal_level=logical,
#                              database `shop`, superuser `postgres` (socket, trust) and
#                              `repl`/'replpw' (REPLICATION, TCP with scram); CDC_PG_PORT, CDC_PG_DIR.
#   upg SQL                    psql -XAt against it as postgres in database shop.
#   cdc_pg_restart / cdc_pg_stop
#   cdc_maria_start            a MariaDB (log_bin, ROW, FULL, GTID) with database `shop` and user
#                              repl/'replpw'; CDC_MY_PORT, CDC_MY_DIR, CDC_MY_PID.
#   umy SQL                    the mariadb client as root over the socket, database shop, -N -B.
#   cdc_maria_restart / cdc_maria_stop
#   cdc_wait_position SOURCE POS TIMEOUT_S   until mz_source_statuses.position >= POS (LSN order
#                              for PostgreSQL, sequence number order for a GTID D-S-N).
# Everything is started and stopped by PID (or pg_ctl on our own data directory); the EXIT trap
# set by cdc_trap stops all of it.

: "${CDC_FRESHET_BIN:=${FRESHET_BIN}}"
# cdc_mktemp runs in $(...) subshells, so the directories it makes are listed in a file.
CDC_TMP_LIST=$(mktemp /tmp/freshet-cdc-list.XXXXXX)

cdc_cleanup() {
  cdc_freshet_stop
  cdc_pg_stop
  cdc_maria_stop
  local d
  if [[ -z "${E2E_KEEP_LOGS:-}" ]]; then
    while read -r d; do [[ "$d" == /tmp/freshet-cdc-* ]] && rm -rf "$d"; done <"$CDC_TMP_LIST"
  else
    echo "cdc: logs kept in $(tr '\n' ' ' <"$CDC_TMP_LIST")" >&2
  fi
  rm -f "$CDC_TMP_LIST"
}
cdc_trap() { trap 'cdc_cleanup' EXIT; }

cdc_mktemp() {
  local d; d=$(mktemp -d "/tmp/freshet-cdc-$1.XXXXXX"); chmod 755 "$d"; echo "$d" >>"$CDC_TMP_LIST"; echo "$d"
}

# ---------- Freshet ----------
cdc_freshet_start() {
  CDC_FRESHET_DIR=$1
  local chosen=0 attempt
  [[ -n "${CDC_FRESHET_PORT:-}" ]] || { CDC_FRESHET_PORT=$(free_port); chosen=1; }
  FRESHET_LOG="$CDC_FRESHET_DIR/freshet.log"
  # Another process may take the port between free_port and the bind (other tests and
  # servers on this machine): a first start moves to a new port, a restart (which must keep
  # its port) tries the same one again.
  for attempt in 1 2 3 4 5; do
    local mark; mark=$(wc -l <"$FRESHET_LOG" 2>/dev/null || echo 0)
    "$CDC_FRESHET_BIN" serve --data-dir "$CDC_FRESHET_DIR/data" --pg-listen "127.0.0.1:$CDC_FRESHET_PORT" \
      --kafka-listen off --http-listen off >>"$FRESHET_LOG" 2>&1 &
    CDC_FRESHET_PID=$!
    wait_ready "$CDC_FRESHET_PORT" "${FRESHET_START_TIMEOUT_S:-60}" "$CDC_FRESHET_PID" && return 0
    if ! kill -0 "$CDC_FRESHET_PID" 2>/dev/null && tail -n +"$((mark + 1))" "$FRESHET_LOG" | grep -q "Address already in use"; then
      wait "$CDC_FRESHET_PID" 2>/dev/null
      if ((chosen)); then CDC_FRESHET_PORT=$(free_port); else sleep 1; fi
      continue
    fi
    break
  done
  echo "cdc_freshet_start: freshet did not come up on port $CDC_FRESHET_PORT; log:" >&2
  tail -n 30 "$FRESHET_LOG" >&2
  return 1
}
cdc_freshet_alive() { [[ -n "${CDC_FRESHET_PID:-}" ]] && kill -0 "$CDC_FRESHET_PID" 2>/dev/null; }
cdc_freshet_kill9() {
  [[ -n "${CDC_FRESHET_PID:-}" ]] || return 0
  kill -9 "$CDC_FRESHET_PID" 2>/dev/null; wait "$CDC_FRESHET_PID" 2>/dev/null; CDC_FRESHET_PID=
}
cdc_freshet_stop() {
  [[ -n "${CDC_FRESHET_PID:-}" ]] || return 0
  kill "$CDC_FRESHET_PID" 2>/dev/null
  local i; for i in $(seq 1 50); do kill -0 "$CDC_FRESHET_PID" 2>/dev/null || break; sleep 0.1; done
  cdc_freshet_kill9
}
fsql() {
  PGCONNECT_TIMEOUT=10 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$CDC_FRESHET_PORT" -U freshet -d freshet -c "$1"
}
# fsql_err SQL: runs it with VERBOSITY verbose, so an error prints "ERROR:  SQLSTATE: message".
fsql_err() {
  PGCONNECT_TIMEOUT=10 psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h 127.0.0.1 \
    -p "$CDC_FRESHET_PORT" -U freshet -d freshet -c "$1" 2>&1
}

# ---------- PostgreSQL ----------
cdc_pg_start() {
  local wal_level=${1:-logical}
  CDC_PG_DIR=$(cdc_mktemp pg)
  chown "$PG_OS_USER" "$CDC_PG_DIR" 2>/dev/null || true
  [[ -n "${CDC_PG_PORT:-}" ]] || CDC_PG_PORT=$(free_port)
  CDC_PG_WAL_LEVEL=$wal_level
  _as_pg_user "'$PG_BIN/initdb' -D '$CDC_PG_DIR/data' -U postgres -E UTF8 --locale=C --auth-local=trust \
     --auth-host=scram-sha-256 --no-sync >'$CDC_PG_DIR/initdb.log' 2>&1" \
    || { echo "cdc_pg_start: initdb failed:"; cat "$CDC_PG_DIR/initdb.log"; return 1; }
  _cdc_pg_ctl_start || return 1
  upg_db postgres "CREATE DATABASE shop" >/dev/null || return 1
  upg "CREATE ROLE repl LOGIN REPLICATION PASSWORD 'replpw'; GRANT CREATE ON SCHEMA public TO repl;
       ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO repl;" >/dev/null
}
_cdc_pg_ctl_start() {
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$CDC_PG_DIR/data' -l '$CDC_PG_DIR/log' -w -t 60 \
     -o \"-p $CDC_PG_PORT -k '$CDC_PG_DIR' -c listen_addresses=127.0.0.1 -c wal_level=$CDC_PG_WAL_LEVEL \
         -c max_replication_slots=20 -c max_wal_senders=20 -c fsync=off -c full_page_writes=off \
         -c max_connections=100 -c shared_buffers=256MB -c max_wal_size=4GB\" start >/dev/null" \
    || { echo "cdc_pg_start: pg_ctl start failed:"; tail -n 20 "$CDC_PG_DIR/log"; return 1; }
}
cdc_pg_restart() {
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$CDC_PG_DIR/data' -m ${1:-fast} -w stop >/dev/null 2>&1"
  _cdc_pg_ctl_start
}
cdc_pg_stop() {
  [[ -n "${CDC_PG_DIR:-}" && -d "$CDC_PG_DIR/data" ]] || return 0
  _as_pg_user "'$PG_BIN/pg_ctl' -D '$CDC_PG_DIR/data' -m immediate stop >/dev/null 2>&1" || true
  CDC_PG_DIR=
}
upg_db() { local db=$1; shift; psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$CDC_PG_DIR" -p "$CDC_PG_PORT" -U postgres -d "$db" -c "$1"; }
upg() { upg_db shop "$1"; }
# A Freshet CONNECTION to this cluster (name pg, secret pgpw) unless it exists.
cdc_pg_connection() {
  fsql "CREATE SECRET ${2:-pgpw} AS '${3:-replpw}'" >/dev/null &&
  fsql "CREATE CONNECTION ${1:-pg} TO POSTGRES (HOST '127.0.0.1', PORT $CDC_PG_PORT, DATABASE 'shop', USER 'repl', PASSWORD SECRET ${2:-pgpw}, SSL MODE 'disable')" >/dev/null
}

# ---------- MariaDB ----------
_cdc_find() { local d; for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do [[ -x "$d/$1" ]] && { echo "$d/$1"; return; }; done; echo "$1"; }
cdc_maria_start() {
  CDC_MY_DIR=$(cdc_mktemp my)
  [[ -n "${CDC_MY_PORT:-}" ]] || CDC_MY_PORT=$(free_port)
  "$(_cdc_find mariadb-install-db)" --no-defaults --datadir="$CDC_MY_DIR/data" --user=root \
    --auth-root-authentication-method=normal --skip-test-db >"$CDC_MY_DIR/install.log" 2>&1 \
    || { echo "cdc_maria_start: install failed:"; tail -n 20 "$CDC_MY_DIR/install.log"; return 1; }
  _cdc_maria_run || return 1
  umy_db "" "CREATE DATABASE shop; CREATE USER repl@'%' IDENTIFIED BY 'replpw';
    GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO repl@'%'; FLUSH PRIVILEGES;" || return 1
}
_cdc_maria_run() {
  "$(_cdc_find mariadbd)" --no-defaults --datadir="$CDC_MY_DIR/data" --socket="$CDC_MY_DIR/sock" \
    --port="$CDC_MY_PORT" --bind-address=127.0.0.1 --log-error="$CDC_MY_DIR/server.log" \
    --pid-file="$CDC_MY_DIR/server.pid" --log-bin="$CDC_MY_DIR/data/binlog" --binlog-format=ROW \
    --binlog-row-image=FULL --server-id=1 --user=root --skip-name-resolve --innodb-buffer-pool-size=128M \
    --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --max-connections=100 >/dev/null 2>&1 &
  CDC_MY_PID=$!
  local i
  for i in $(seq 1 300); do
    kill -0 "$CDC_MY_PID" 2>/dev/null || { echo "cdc_maria_start: mariadbd exited:"; tail -n 20 "$CDC_MY_DIR/server.log"; return 1; }
    mariadb --no-defaults -uroot -S "$CDC_MY_DIR/sock" -e 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "cdc_maria_start: mariadbd did not come up"; return 1
}
cdc_maria_stop() {
  [[ -n "${CDC_MY_PID:-}" ]] || return 0
  kill "$CDC_MY_PID" 2>/dev/null
  local i; for i in $(seq 1 300); do kill -0 "$CDC_MY_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$CDC_MY_PID" 2>/dev/null; wait "$CDC_MY_PID" 2>/dev/null; CDC_MY_PID=
}
cdc_maria_restart() { cdc_maria_stop; _cdc_maria_run; }
umy_db() { mariadb --no-defaults -uroot -S "$CDC_MY_DIR/sock" -N -B -r ${1:+-D "$1"} -e "$2"; }
umy() { umy_db shop "$1"; }
# umy_rows SQL: result rows as psql -A prints them ('|' between fields, NULL as empty).
umy_rows() { umy_db shop "$1" | awk -F'\t' -v OFS='|' '{ for (i = 1; i <= NF; i++) if ($i == "NULL") $i = ""; $1 = $1; print }'; }
cdc_maria_connection() {
  fsql "CREATE SECRET ${2:-mypw} AS 'replpw'" >/dev/null &&
  fsql "CREATE CONNECTION ${1:-my} TO MYSQL (HOST '127.0.0.1', PORT $CDC_MY_PORT, USER 'repl', PASSWORD SECRET ${2:-mypw}, DATABASE 'shop')" >/dev/null
}

# ---------- positions ----------
# _cdc_pos_ge A B: A >= B for LSNs (X/X, any padding) or GTIDs (D-S-N, by N).
_cdc_pos_ge() {
  local a=$1 b=$2
  if [[ "$b" == */* ]]; then
    [[ "$a" == */* ]] || return 1
    local ah=$((16#${a%%/*})) al=$((16#${a##*/})) bh=$((16#${b%%/*})) bl=$((16#${b##*/}))
    ((ah > bh || (ah == bh && al >= bl)))
  else
    [[ "$a" =~ ^[0-9]+-[0-9]+-[0-9]+$ ]] || return 1
    ((${a##*-} >= ${b##*-}))
  fi
}
# cdc_wait_position SOURCE POS TIMEOUT_S: 0 once the source's position reaches POS.
cdc_wait_position() {
  local src=$1 want=$2 timeout_s=${3:-30} i pos= st= errs=0
  for i in $(seq 1 $((timeout_s * 20))); do
    IFS='|' read -r pos st <<<"$(fsql "SELECT position, state FROM mz_source_statuses WHERE name = '$src'" 2>/dev/null)"
    if [[ -n "$pos" ]] && _cdc_pos_ge "$pos" "$want"; then return 0; fi
    # In state error for 20 s in a row (reconnects back off to a few seconds): give up early.
    if [[ "$st" == error ]]; then errs=$((errs + 1)); ((errs > 400)) && break; else errs=0; fi
    sleep 0.05
  done
  echo "source $src: position '$pos' did not reach $want in ${timeout_s}s; status:"
  fsql "SELECT * FROM mz_source_statuses WHERE name = '$src'" 2>&1
  return 1
}
cdc_pg_lsn() { upg "SELECT pg_current_wal_lsn()"; }
cdc_my_gtid() { umy "SELECT @@gtid_binlog_pos"; }

# cdc_compare LABEL FRESHET_SQL UPSTREAM_FN UPSTREAM_SQL: sorted results must be equal.
cdc_compare() {
  local label=$1 fq=$2 ufn=$3 uq=$4 a b
  a=$(fsql "$fq" 2>&1 | sort) ; b=$($ufn "$uq" 2>&1 | sed 's/\t/|/g' | sort)
  if [[ "$a" != "$b" ]]; then
    echo "MISMATCH $label: freshet vs upstream (< freshet, > upstream):"
    diff <(echo "$a") <(echo "$b") | head -n 20
    return 1
  fi
  return 0
}
