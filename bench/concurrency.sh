#!/usr/bin/env bash
# Concurrent writers: Freshet next to PostgreSQL 15 on the same machine, fsync on in both
# (Freshet always fdatasyncs a commit; PostgreSQL runs with its defaults fsync=on,
# synchronous_commit=on), throwaway data dirs, the same pgbench scripts. See bench/README.md,
# "Concurrency".
#
#   bench/concurrency.sh [--workers N]      DURATION=15 SINGLE_CLIENTS=64 BULK_CLIENTS=2 BULK_ROWS=1000
#   DURATION=5 bench/concurrency.sh                       (quicker)
#   HEAVY_ROWS=1000000 bench/concurrency.sh               (adds phase 3, see below)
#
# Phase 1 "single": SINGLE_CLIENTS clients, each transaction one autocommit INSERT of one row.
# Phase 2 "bulk":   BULK_CLIENTS clients, each transaction one INSERT of BULK_ROWS rows.
# Phase 3 "single+hydrate" (HEAVY_ROWS > 0): phase 1 again while a heavy view hydrates
#   (a self-join aggregate over HEAVY_ROWS rows, CREATE VIEW + CREATE INDEX in Freshet,
#   CREATE MATERIALIZED VIEW in PostgreSQL), started when the clients start; reported over the
#   whole phase and over the transactions that overlapped the hydration.
# Each prints commits/s, rows/s and commit latency p50/p99 (pgbench's per-transaction log),
# side by side with ratios Freshet/PostgreSQL (> 1: Freshet is better for commits and rows,
# worse for latency). pgbench runs on the same 2 cores as the servers.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${DURATION:=15}" "${SINGLE_CLIENTS:=64}" "${BULK_CLIENTS:=2}" "${BULK_ROWS:=1000}" "${HEAVY_ROWS:=0}"
: "${PGBENCH:=$PG_BIN/pgbench}"
WORKERS=
while (($#)); do
  case $1 in
    --workers) WORKERS=$2; shift 2 ;;
    --workers=*) WORKERS=${1#--workers=}; shift ;;
    *) echo "usage: bench/concurrency.sh [--workers N]" >&2; exit 2 ;;
  esac
done
if [[ -n "$WORKERS" ]]; then
  if "$FRESHET_BIN" serve --help 2>&1 | grep -q -- '--workers'; then
    export FRESHET_EXTRA_ARGS="${FRESHET_EXTRA_ARGS:-} --workers $WORKERS"
  else
    echo "bench: note: this freshet serve has no --workers option yet; running without it"
    WORKERS=
  fi
fi
[[ -x "$PGBENCH" ]] || { echo "bench: $PGBENCH not found (Debian's postgresql-15 ships it)"; exit 2; }

WORK=$(mktemp -d /tmp/freshet-bench-conc.XXXXXX)
chmod 755 "$WORK"

# PostgreSQL 15 with fsync on (lib.sh's start_postgres turns it off for the other benches).
start_postgres_durable() {
  PG_REF_DIR=$(mktemp -d /tmp/freshet-pg.XXXXXX)
  chmod 755 "$PG_REF_DIR"
  [[ $(id -u) -eq 0 ]] && { id "$PG_OS_USER" >/dev/null 2>&1 || useradd -m "$PG_OS_USER"; chown "$PG_OS_USER" "$PG_REF_DIR"; }
  _as_pg_user "'$PG_BIN/initdb' -D '$PG_REF_DIR/data' -A trust -U freshet >'$PG_REF_DIR/initdb.log' 2>&1" ||
    { echo "bench: initdb failed"; cat "$PG_REF_DIR/initdb.log"; return 1; }
  local started=0
  for _ in 1 2 3; do  # a port taken between choosing and binding it: choose again
    PG_REF_PORT=$(free_port)
    if _as_pg_user "'$PG_BIN/pg_ctl' -D '$PG_REF_DIR/data' -l '$PG_REF_DIR/log' -w -t 60 \
         -o \"-p $PG_REF_PORT -k '$PG_REF_DIR' -c listen_addresses=127.0.0.1 -c fsync=on \
             -c synchronous_commit=on -c max_connections=300 -c shared_buffers=256MB\" start >/dev/null"; then
      started=1
      break
    fi
  done
  ((started)) || { echo "bench: pg_ctl start failed"; cat "$PG_REF_DIR/log"; return 1; }
  psql -X -q -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d postgres -c 'CREATE DATABASE freshet' >/dev/null
  export PG_REF_PORT PG_REF_DIR
}
cleanup() { stop_freshet; stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT
start_postgres_durable || exit 1
E2E_TARGET=freshet start_freshet || exit 1
trap cleanup EXIT
FR=$FRESHET_PORT PG=$PG_REF_PORT
psql_to() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U freshet -d freshet -v ON_ERROR_STOP=1 "${@:2}"; }
echo "bench: Freshet port $FR${WORKERS:+ (--workers $WORKERS)}, PostgreSQL 15 port $PG (fsync on); $DURATION s per phase"
[[ $(psql_to "$PG" -c 'SHOW fsync') == on ]] || { echo "bench: PostgreSQL fsync is not on"; exit 1; }

for port in $FR $PG; do
  psql_to "$port" -c 'CREATE TABLE single_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' \
    -c 'CREATE TABLE bulk_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' >/dev/null || exit 1
done
cat >"$WORK/single.sql" <<'EOF'
\set id random(1, 9000000000000000000)
INSERT INTO single_rows VALUES (:id, :client_id, 'payload-abcdefghijklmnop');
EOF
# The ids are computed by pgbench (\set), so the server sees literals, as from a loader.
awk -v n="$BULK_ROWS" 'BEGIN {
  print "\\set base random(1, 9000000000000000)"
  for (i = 1; i <= n; i++) printf "\\set r%d :base * 1000 + %d\n", i, i
  printf "INSERT INTO bulk_rows VALUES "
  for (i = 1; i <= n; i++) printf "%s(:r%d, :client_id, '\''payload-abcdefghijklmnop'\'')", (i > 1 ? ", " : ""), i
  print ";"
}' >"$WORK/bulk.sql"

# run PHASE SIDE PORT CLIENTS SCRIPT ROWS_PER_TXN -> sets R_<PHASE>_<SIDE>="tps rows_s p50_ms p99_ms failed"
run() {
  local phase=$1 side=$2 port=$3 clients=$4 script=$5 rows=$6 dir="$WORK/$1-$2" out tps p50 p99 pmax failed
  mkdir -p "$dir"
  out=$("$PGBENCH" -n -h 127.0.0.1 -p "$port" -U freshet -c "$clients" -j 2 -T "$DURATION" -f "$script" \
          -l --log-prefix="$dir/log" freshet 2>&1)
  tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out")
  failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$out")
  if [[ -z "$tps" ]]; then
    echo "bench: pgbench $phase on $side failed:"; tail -5 <<<"$out"
    declare -g "R_${phase}_${side}=- - - - - -"
    return
  fi
  read -r p50 p99 pmax < <(cat "$dir"/log* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 }
      END { if (NR == 0) { print "- - -"; exit } i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
            printf "%.2f %.2f %.2f\n", v[i50] / 1000, v[i99] / 1000, v[NR] / 1000 }')
  declare -g "R_${phase}_${side}=$tps $(awk -v t="$tps" -v r="$rows" 'BEGIN { printf "%.0f", t * r }') $p50 $p99 ${failed:-0} $pmax"
  echo "  $phase $side: $(eval echo "\$R_${phase}_${side}" | awk '{ printf "%.0f commits/s, %s rows/s, p50 %s ms, p99 %s ms, max %s ms, %s failed", $1, $2, $3, $4, $6, $5 }')"
}

echo "bench: phase single: $SINGLE_CLIENTS clients x 1-row INSERT"
run single PG "$PG" "$SINGLE_CLIENTS" "$WORK/single.sql" 1
run single FR "$FR" "$SINGLE_CLIENTS" "$WORK/single.sql" 1
echo "bench: phase bulk: $BULK_CLIENTS clients x $BULK_ROWS-row INSERT"
run bulk PG "$PG" "$BULK_CLIENTS" "$WORK/bulk.sql" "$BULK_ROWS"
run bulk FR "$FR" "$BULK_CLIENTS" "$WORK/bulk.sql" "$BULK_ROWS"
PHASES="single bulk"

if ((HEAVY_ROWS > 0)); then
  echo "bench: phase single+hydrate: loading $HEAVY_ROWS rows for the heavy view"
  for port in $FR $PG; do
    psql_to "$port" -c 'CREATE TABLE heavy (id bigint NOT NULL, grp bigint NOT NULL, v bigint NOT NULL)' \
      -c "INSERT INTO heavy SELECT g, g % 1000, g % 97 FROM generate_series(1, $HEAVY_ROWS) AS g" >/dev/null || exit 1
  done
  HEAVY_SQL="SELECT a.grp, count(*) AS n, sum(b.v) AS s FROM heavy a JOIN heavy b ON a.id = b.id + 1 GROUP BY a.grp"
  for side in PG FR; do
    port=$([[ $side == PG ]] && echo "$PG" || echo "$FR")
    (
      t0=$(date +%s.%N)
      if [[ $side == PG ]]; then
        psql_to "$port" -c "CREATE MATERIALIZED VIEW heavy_v AS $HEAVY_SQL"
      else
        psql_to "$port" -c "CREATE VIEW heavy_v AS $HEAVY_SQL" -c 'CREATE INDEX heavy_v_idx ON heavy_v (grp)'
      fi
      echo "$t0 $(date +%s.%N)" >"$WORK/heavy-$side.span"
    ) >"$WORK/heavy-$side.out" 2>&1 &
    hpid=$!
    run hydrate "$side" "$port" "$SINGLE_CLIENTS" "$WORK/single.sql" 1
    wait "$hpid"
    grep -q ERROR "$WORK/heavy-$side.out" && { echo "  $side: the heavy view failed:"; head -3 "$WORK/heavy-$side.out"; }
    # The transactions that overlapped the hydration (pgbench logs each one's end time and
    # latency): over the whole phase a stall of every client shows in only CLIENTS transactions,
    # below the 99th percentile.
    read -r h0 h1 <"$WORK/heavy-$side.span"
    read -r n p50 p99 pmax < <(cat "$WORK/hydrate-$side"/log* | awk -v h0="$h0" -v h1="$h1" '{
        end = $5 + $6 / 1e6; start = end - $3 / 1e6; if (start < h1 && end > h0) print $3 }' | sort -n |
      awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 - - -"; exit } i50 = int(NR * 0.5); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
            printf "%d %.2f %.2f %.2f\n", NR, v[i50] / 1000, v[i99] / 1000, v[NR] / 1000 }')
    secs=$(awk -v a="$h1" -v b="$h0" 'BEGIN { printf "%.1f", a - b }')
    cps=$(awk -v n="$n" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')
    declare -g "R_during_${side}=$cps $cps $p50 $p99 0 $pmax"
    echo "  $side: the heavy view hydrated in $secs s; $n transactions overlapped it: $cps commits/s, p50 $p50 ms, p99 $p99 ms, max $pmax ms"
  done
  PHASES="single bulk hydrate during"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "=== concurrent writers, $DURATION s per phase, fsync on in both (ratio = Freshet / PostgreSQL) ==="
printf '%-28s %12s %12s %8s\n' metric Freshet PostgreSQL ratio
for ph in $PHASES; do
  read -r f_tps f_rows f_p50 f_p99 f_fail f_max <<<"$(eval echo "\$R_${ph}_FR")"
  read -r p_tps p_rows p_p50 p_p99 p_fail p_max <<<"$(eval echo "\$R_${ph}_PG")"
  case $ph in
    single) label="single ($SINGLE_CLIENTS clients, 1 row)" ;;
    bulk) label="bulk ($BULK_CLIENTS clients, $BULK_ROWS rows)" ;;
    hydrate) label="single + heavy view hydrating, whole phase" ;;
    during) label="  the same, only transactions overlapping the hydration" ;;
  esac
  echo "$label"
  printf '  %-26s %12.0f %12.0f %8s\n' "commits/s" "$f_tps" "$p_tps" "$(ratio "$f_tps" "$p_tps")" 2>/dev/null || printf '  %-26s %12s %12s\n' "commits/s" "$f_tps" "$p_tps"
  printf '  %-26s %12s %12s %8s\n' "rows/s" "$f_rows" "$p_rows" "$(ratio "$f_rows" "$p_rows")"
  printf '  %-26s %12s %12s %8s\n' "commit latency p50 ms" "$f_p50" "$p_p50" "$(ratio "$f_p50" "$p_p50")"
  printf '  %-26s %12s %12s %8s\n' "commit latency p99 ms" "$f_p99" "$p_p99" "$(ratio "$f_p99" "$p_p99")"
  printf '  %-26s %12s %12s %8s\n' "commit latency max ms" "$f_max" "$p_max" "$(ratio "$f_max" "$p_max")"
  [[ "$f_fail$p_fail" == 00 ]] || printf '  %-26s %12s %12s\n' "failed transactions" "$f_fail" "$p_fail"
done
if [[ " $PHASES " == *" hydrate "* ]]; then
  # R_<phase>_<side> are set by run() and the hydration phase with declare -g.
  # shellcheck disable=SC2154
  read -r _ _ _ f_idle _ <<<"$R_single_FR"
  # shellcheck disable=SC2154
  read -r _ _ _ f_h _ <<<"$R_during_FR"
  # shellcheck disable=SC2154
  read -r _ _ _ p_idle _ <<<"$R_single_PG"
  # shellcheck disable=SC2154
  read -r _ _ _ p_h _ <<<"$R_during_PG"
  echo "commit p99 during the hydration / idle p99: Freshet $(ratio "$f_h" "$f_idle"), PostgreSQL $(ratio "$p_h" "$p_idle") (goal in issue 9: <= 2)"
fi
