#!/usr/bin/env bash
# CDC crash safety: a steady upstream load (gen_load.awk: every transaction appends the next
# number of a monotonically increasing sequence to the insert-only table `audit` and upserts or
# deletes rows of `kv` that carry it) while Freshet is killed with SIGKILL at random moments
# and restarted on the same data directory, and the upstream server is restarted under load.
# After each restart, with the writer paused and the source caught up to the upstream position:
#   audit: count, sum(id), max(id) equal upstream and count = max(id) (no change lost or doubled);
#   kv and two views over it (an indexed aggregate, a materialized view over audit) equal upstream.
# CDC_CRASH_KILLS (default 3; 20 for the long run), CDC_CRASH_UPSTREAM_RESTARTS (default 1),
# CDC_CRASH_UPSTREAMS (default "mariadb postgres"). The long run: test/e2e/cdc/crash_slow.sh.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$E2E_LIB_DIR/cdc/cdc_lib.sh"
NAME=cdc_crash
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: sources are Freshet's)"; exit 0; fi
KILLS=${CDC_CRASH_KILLS:-3}
RESTARTS=${CDC_CRASH_UPSTREAM_RESTARTS:-1}
UPSTREAMS=${CDC_CRASH_UPSTREAMS:-mariadb postgres}
cdc_trap
WRITER_PID=
stop_writer() {
  [[ -n "$WRITER_PID" ]] || return 0
  touch "$CTL/stop"; wait "$WRITER_PID" 2>/dev/null; WRITER_PID=
}
trap 'stop_writer; cdc_cleanup' EXIT
fail() { e2e_fail $NAME "$1"; exit 1; }

upstream_sql() { if [[ $UP == postgres ]]; then upg "$1"; else umy_rows "$1"; fi; }
upstream_pos() { if [[ $UP == postgres ]]; then cdc_pg_lsn; else cdc_my_gtid; fi; }
upstream_feed() {  # stdin: SQL script
  if [[ $UP == postgres ]]; then psql -X -q -h "$CDC_PG_DIR" -p "$CDC_PG_PORT" -U postgres -d shop >/dev/null 2>&1
  else mariadb --no-defaults -uroot -S "$CDC_MY_DIR/sock" -f shop >/dev/null 2>&1; fi
}
upstream_restart() { if [[ $UP == postgres ]]; then cdc_pg_restart fast; else cdc_maria_restart; fi; }

# The writer: chunks of 100 transactions until $CTL/stop; between chunks it honours $CTL/pause
# (acknowledged by $CTL/paused). A chunk that fails (upstream restarting) is simply retried:
# every transaction derives its sequence number from upstream, so none is skipped or repeated.
writer() {
  local chunk=0
  while [[ ! -f "$CTL/stop" ]]; do
    if [[ -f "$CTL/pause" ]]; then touch "$CTL/paused"; sleep 0.02; continue; fi
    rm -f "$CTL/paused"
    chunk=$((chunk + 1))
    awk -v seed="$chunk" -v txns=100 -v dialect="$UP" -f "$E2E_LIB_DIR/cdc/gen_load.awk" | upstream_feed || sleep 0.2
  done
}
pause_writer() {
  touch "$CTL/pause"; local i
  for i in $(seq 1 300); do [[ -f "$CTL/paused" ]] && return 0; sleep 0.05; done
  echo "writer did not pause"; return 1
}
resume_writer() { rm -f "$CTL/pause" "$CTL/paused"; }

KV_Q="SELECT k % 10 AS b, count(*) AS n, sum(v) AS s, sum(n) AS writes FROM kv GROUP BY k % 10"
check() {  # check LABEL
  pause_writer || return 1
  local pos; pos=$(upstream_pos)
  cdc_wait_position "$SRC" "$pos" 90 || { resume_writer; return 1; }
  local bad=0 got want
  got=$(fsql "SELECT count(*), sum(id), max(id), count(DISTINCT id) FROM audit")
  want=$(upstream_sql "SELECT count(*), sum(id), max(id), count(DISTINCT id) FROM audit")
  [[ "$got" == "$want" ]] || { echo "MISMATCH $1 audit: freshet $got, upstream $want"; bad=1; }
  IFS='|' read -r n _ m _ <<<"$got"
  [[ "$n" == "$m" ]] || { echo "MISMATCH $1 audit: $n rows but max id $m"; bad=1; }
  got=$(fsql "SELECT * FROM audit_stats")
  [[ "$got" == "$(echo "$want" | cut -d'|' -f1-3)" ]] || { echo "MISMATCH $1 audit_stats (materialized view): $got vs $want"; bad=1; }
  cdc_compare "$1 kv" "SELECT * FROM kv" upstream_sql "SELECT * FROM kv" || bad=1
  cdc_compare "$1 kv_buckets (indexed view)" "SELECT * FROM kv_buckets" upstream_sql "$KV_Q" || bad=1
  cdc_compare "$1 kv_buckets point lookup" "SELECT * FROM kv_buckets WHERE b = 3" upstream_sql "SELECT * FROM ($KV_Q) x WHERE b = 3" || bad=1
  echo "  $1: $UP at $pos, audit $n rows, state $(fsql "SELECT state FROM mz_source_statuses WHERE name = '$SRC'")"
  resume_writer
  return $bad
}

total_kills=0
for UP in $UPSTREAMS; do
  CTL=$(cdc_mktemp ctl)
  if [[ $UP == postgres ]]; then
    cdc_pg_start || fail "PostgreSQL did not start"
    upg "CREATE TABLE audit (id bigint PRIMARY KEY, note text, at timestamptz DEFAULT now());
         CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, n int NOT NULL);
         CREATE PUBLICATION p FOR TABLE audit, kv;" >/dev/null || fail "upstream schema"
  else
    cdc_maria_start || fail "MariaDB did not start"
    umy "CREATE TABLE audit (id bigint PRIMARY KEY, note text, at datetime(6) DEFAULT now(6));
         CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL, n int NOT NULL);" || fail "upstream schema"
  fi
  FD=$(cdc_mktemp freshet)
  CDC_FRESHET_PORT=
  cdc_freshet_start "$FD" || fail "freshet did not start"
  # Some rows before the source exists (snapshot), the rest streamed under load.
  awk -v seed=0 -v txns=300 -v dialect="$UP" -v pace=1000 -f "$E2E_LIB_DIR/cdc/gen_load.awk" | upstream_feed
  writer & WRITER_PID=$!
  sleep 0.5
  if [[ $UP == postgres ]]; then
    SRC=pgsrc
    cdc_pg_connection || fail "CREATE CONNECTION"
    out=$(fsql "CREATE SOURCE pgsrc FROM POSTGRES CONNECTION pg (PUBLICATION 'p') FOR ALL TABLES" 2>&1) || fail "CREATE SOURCE: $out"
  else
    SRC=mysrc
    cdc_maria_connection || fail "CREATE CONNECTION"
    out=$(fsql "CREATE SOURCE mysrc FROM MYSQL CONNECTION my FOR ALL TABLES" 2>&1) || fail "CREATE SOURCE: $out"
  fi
  fsql "CREATE VIEW kv_buckets AS $KV_Q" >/dev/null || fail "CREATE VIEW"
  fsql "CREATE INDEX kv_buckets_idx ON kv_buckets (b)" >/dev/null || fail "CREATE INDEX"
  fsql "CREATE MATERIALIZED VIEW audit_stats AS SELECT count(*) AS n, sum(id) AS s, max(id) AS m FROM audit" >/dev/null \
    || fail "CREATE MATERIALIZED VIEW"
  check "$UP start" || fail "$UP: differs from upstream after the snapshot"

  restart_at=()
  for r in $(seq 1 "$RESTARTS"); do restart_at+=($(( (KILLS * r) / (RESTARTS + 1) + 1 ))); done
  for i in $(seq 1 "$KILLS"); do
    # A random moment under load: 0.2 .. 2.5 s after the last check.
    sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 2.3 }')"
    cdc_freshet_kill9; total_kills=$((total_kills + 1))
    sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", rand() * 0.5 }')"
    cdc_freshet_start "$FD" || fail "$UP: freshet did not restart after kill $i"
    label="$UP kill $i"
    for r in "${restart_at[@]}"; do
      if ((r == i)); then
        sleep 0.5
        upstream_restart || fail "$UP: upstream restart failed"
        label="$label + upstream restart"
        sleep 1
      fi
    done
    check "$label" || fail "$label: differs from upstream"
  done
  # Upstream restart while Freshet keeps running (the connector must reconnect by itself).
  sleep 0.5; upstream_restart || fail "$UP: upstream restart failed"; sleep 1
  check "$UP upstream restart, freshet up" || fail "$UP upstream restart: differs from upstream"
  cdc_freshet_alive || fail "freshet exited"
  stop_writer
  cdc_freshet_stop
  if [[ $UP == postgres ]]; then cdc_pg_stop; else cdc_maria_stop; fi
done
echo "  $total_kills kills in all"
e2e_pass $NAME
