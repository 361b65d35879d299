#!/usr/bin/env bash
# Concurrent writers: Freshet next to PostgreSQL 15 on the same machine, fsync on in both
# (Freshet always fdatasyncs a commit; PostgreSQL runs with its defaults fsync=on,
# synchronous_commit=on), throwaway data dirs, the same pgbench scripts. See bench/README.md,
# "Concurrency".
#
#   bench/concurrency.sh [--workers N]      DURATION=15 SINGLE_CLIENTS=64 BULK_CLIENTS=2 BULK_ROWS=1000
#                                           ROWS=10000000 LOAD_BATCH=1000000 LOOKUP_ROWS=100000 LOOKUP_CLIENTS=1
#   DURATION=5 ROWS=1000000 bench/concurrency.sh          (quicker)
#   ROWS=0 bench/concurrency.sh                           (phases 1 and 2 only)
#
# Phase 1 "single": SINGLE_CLIENTS clients, each transaction one autocommit INSERT of one row.
# Phase 2 "bulk":   BULK_CLIENTS clients, each transaction one INSERT of BULK_ROWS rows.
# With ROWS > 0, each engine in turn then loads a table `big` of ROWS rows (INSERT ... SELECT
# FROM generate_series, LOAD_BATCH rows a statement) and a table `lk` of LOOKUP_ROWS rows, and:
# Phase 3 "mixed" (idle): phases 1 and 2 at once plus LOOKUP_CLIENTS clients doing point
#   lookups `SELECT v FROM lk_v WHERE id = $1` (Freshet: an index on the view lk_v; PostgreSQL:
#   lk_v is a plain view, read through lk's primary key).
# Phase 4 "loaded": the same while a heavy view over big hydrates (HEAVY_SQL; Freshet:
#   CREATE VIEW + CREATE INDEX, PostgreSQL: CREATE MATERIALIZED VIEW), started with the load,
#   and, in Freshet, another heavy view (MAINTAINED_SQL: the inserted rows joined with big,
#   grouped by client with distinct counts and min/max) is maintained over the inserted tables
#   (PostgreSQL has no analogue). Reported over the transactions that overlapped the hydration,
#   next to phase 3: commit and lookup p50/p99/max, commits/s, rows/s, lookups/s, ratios
#   loaded / idle. Memory: Freshet holds big (~250 B a row) plus the two views' state (about
#   6 GB at 10M rows); RSS is printed along the way.
# Each prints commits/s, rows/s and commit latency p50/p99 (pgbench's per-transaction log),
# side by side with ratios Freshet/PostgreSQL (> 1: Freshet is better for commits and rows,
# worse for latency). pgbench runs on the same 2 cores as the servers.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
: "${DURATION:=15}" "${SINGLE_CLIENTS:=64}" "${BULK_CLIENTS:=2}" "${BULK_ROWS:=1000}"
: "${ROWS:=10000000}" "${LOAD_BATCH:=1000000}" "${LOOKUP_ROWS:=100000}" "${LOOKUP_CLIENTS:=1}"
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
source "$BENCH_DIR/pgbench_scripts.sh"
bulk_insert_script bulk_rows "$BULK_ROWS" "$WORK/bulk.sql"

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

# Freshet's write phases (/metrics freshet_write_phase_seconds: "phase sum_s count" per line).
phase_snapshot() {
  curl -s "http://127.0.0.1:$FRESHET_HTTP_PORT/metrics" 2>/dev/null |
    sed -nE 's/^freshet_write_phase_seconds_(sum|count)\{phase="([a-z_]+)"\} ([0-9.e+-]+)$/\2 \1 \3/p' |
    awk '{ v[$1, $2] = $3; p[$1] = 1 } END { for (k in p) print k, v[k, "sum"] + 0, v[k, "count"] + 0 }'
}
# phase_means BEFORE AFTER: the mean of each phase over the writes between two snapshots.
phase_means() {
  awk 'NR == FNR { s[$1] = $2; c[$1] = $3; next }
       { n = $3 - c[$1]; if (n > 0) printf "%s %.2f ms, ", $1, ($2 - s[$1]) / n * 1000 }' <(echo "$1") <(echo "$2") |
    sed 's/, $//'
}
echo "bench: load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: phase single: $SINGLE_CLIENTS clients x 1-row INSERT"
run single PG "$PG" "$SINGLE_CLIENTS" "$WORK/single.sql" 1
ph0=$(phase_snapshot)
run single FR "$FR" "$SINGLE_CLIENTS" "$WORK/single.sql" 1
echo "  single FR write phases (means): $(phase_means "$ph0" "$(phase_snapshot)")"
echo "bench: phase bulk: $BULK_CLIENTS clients x $BULK_ROWS-row INSERT"
run bulk PG "$PG" "$BULK_CLIENTS" "$WORK/bulk.sql" "$BULK_ROWS"
ph0=$(phase_snapshot)
run bulk FR "$FR" "$BULK_CLIENTS" "$WORK/bulk.sql" "$BULK_ROWS"
echo "  bulk FR write phases (means): $(phase_means "$ph0" "$(phase_snapshot)")"
PHASES="single bulk"


# --- Phases "mixed" and "loaded" (ROWS > 0) -------------------------------------------------
# stats LOGDIR [FROM TO] -> "n p50_ms p99_ms max_ms" over the pgbench per-transaction logs in
# LOGDIR (fields: client, txn, latency us, script, end epoch s, end us), only the transactions
# that overlapped [FROM, TO] (epoch seconds) when given.
stats() {
  cat "$1"/log* 2>/dev/null | awk -v h0="${2:-0}" -v h1="${3:-1e12}" '{
      end = $5 + $6 / 1e6; start = end - $3 / 1e6; if (start < h1 && end > h0) print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 - - -"; exit } i50 = int(NR * 0.5); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
          printf "%d %.2f %.2f %.2f\n", NR, v[i50] / 1000, v[i99] / 1000, v[NR] / 1000 }'
}
# mixed_load TAG SIDE PORT SECONDS: the 64 single-row clients, the 2 bulk clients and the
# lookup clients at once, three pgbench processes; logs in $WORK/TAG-SIDE-{single,bulk,lookup}.
mixed_load() {
  local tag=$1 side=$2 port=$3 secs=$4 kind pids=()
  for kind in single bulk lookup; do
    local clients script jobs=1
    case $kind in
      single) clients=$SINGLE_CLIENTS script=$WORK/single.sql jobs=2 ;;
      bulk) clients=$BULK_CLIENTS script=$WORK/bulk.sql ;;
      lookup) clients=$LOOKUP_CLIENTS script=$WORK/lookup.sql ;;
    esac
    mkdir -p "$WORK/$tag-$side-$kind"
    "$PGBENCH" -n -h 127.0.0.1 -p "$port" -U freshet -c "$clients" -j "$jobs" -T "$secs" -f "$script" \
      -l --log-prefix="$WORK/$tag-$side-$kind/log" freshet >"$WORK/$tag-$side-$kind.out" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for kind in single bulk lookup; do
    grep -q '^tps = ' "$WORK/$tag-$side-$kind.out" ||
      { echo "bench: pgbench $tag $kind on $side failed:"; tail -5 "$WORK/$tag-$side-$kind.out"; }
  done
}
# summarize TAG SIDE FROM TO -> sets M_<TAG>_<SIDE>_<kind>="n per_s p50 p99 max" over [FROM, TO]
summarize() {
  local tag=$1 side=$2 from=$3 to=$4 kind n p50 p99 pmax
  for kind in single bulk lookup; do
    read -r n p50 p99 pmax < <(stats "$WORK/$tag-$side-$kind" "$from" "$to")
    declare -g "M_${tag}_${side}_${kind}=$n $(awk -v n="$n" -v a="$from" -v b="$to" 'BEGIN { printf "%.0f", (b > a ? n / (b - a) : 0) }') $p50 $p99 $pmax"
  done
}
rss_mb() { [[ $1 == FR ]] && ps -o rss= -p "$FRESHET_PID" | awk '{ printf "%.0f", $1 / 1024 }' || echo -; }

if ((ROWS > 0)); then
  cat >"$WORK/lookup.sql" <<EOF2
\\set id random(1, $LOOKUP_ROWS)
SELECT v FROM lk_v WHERE id = :id;
EOF2
  # The heavy view that hydrates during the loaded phase (over ROWS rows, state O(ROWS): the
  # per-group distinct values and min/max multisets), and the one maintained over the inserted
  # tables (a join with big arranges big by id, a distinct count, min/max per client).
  : "${HEAVY_SQL:=SELECT grp, count(*) AS n, sum(v) AS s, count(DISTINCT v) AS dv, min(id) AS lo, max(id) AS hi FROM big GROUP BY grp}"
  : "${MAINTAINED_SQL:=SELECT x.client, count(*) AS n, count(DISTINCT x.id % 1000) AS d, min(x.id) AS lo, max(x.id) AS hi, sum(b.v) AS s FROM (SELECT id, client FROM single_rows UNION ALL SELECT id, client FROM bulk_rows) x JOIN big b ON b.id = x.id % $ROWS + 1 GROUP BY x.client}"
  for side in PG FR; do
    port=$([[ $side == PG ]] && echo "$PG" || echo "$FR")
    t0=$(date +%s.%N)
    psql_to "$port" -c 'CREATE TABLE big (id bigint PRIMARY KEY, grp bigint NOT NULL, v bigint NOT NULL, pad text NOT NULL)' \
      -c 'CREATE TABLE lk (id bigint PRIMARY KEY, v text NOT NULL)' \
      -c "INSERT INTO lk SELECT g, 'value-' || g FROM generate_series(1, $LOOKUP_ROWS) AS g" >/dev/null || exit 1
    for ((lo = 1; lo <= ROWS; lo += LOAD_BATCH)); do
      hi=$((lo + LOAD_BATCH - 1 > ROWS ? ROWS : lo + LOAD_BATCH - 1))
      psql_to "$port" -c "INSERT INTO big SELECT g, g % 10000, g % 997, 'padding-abcdefgh' FROM generate_series($lo, $hi) AS g" >/dev/null || exit 1
    done
    # The point lookups read lk through an index: in Freshet an index on a view of it (an
    # arrangement maintained by the compute threads), in PostgreSQL lk's primary key.
    if [[ $side == FR ]]; then
      psql_to "$port" -c 'CREATE VIEW lk_v AS SELECT id, v FROM lk' -c 'CREATE INDEX lk_v_idx ON lk_v (id)' >/dev/null || exit 1
    else
      psql_to "$port" -c 'CREATE VIEW lk_v AS SELECT id, v FROM lk' -c 'VACUUM ANALYZE' >/dev/null || exit 1
    fi
    echo "bench: $side: loaded $ROWS rows into big and $LOOKUP_ROWS into lk in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (RSS $(rss_mb $side) MB)"

    echo "bench: $side: phase mixed (idle): $SINGLE_CLIENTS single-row + $BULK_CLIENTS bulk clients + $LOOKUP_CLIENTS lookup client(s), $DURATION s"
    p0=$(date +%s.%N)
    mixed_load mixed "$side" "$port" "$DURATION"
    summarize mixed "$side" "$p0" "$(date +%s.%N)"

    if [[ $side == FR ]]; then
      t0=$(date +%s.%N)
      psql_to "$port" -c "CREATE VIEW ins_v AS $MAINTAINED_SQL" -c 'CREATE INDEX ins_v_idx ON ins_v (client)' >/dev/null || exit 1
      echo "bench: FR: the maintained view ins_v hydrated in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (RSS $(rss_mb FR) MB)"
    fi
    echo "bench: $side: phase loaded: the same for $DURATION s while the heavy view over big hydrates$([[ $side == FR ]] && echo ' and ins_v is maintained')"
    (
      h0=$(date +%s.%N)
      if [[ $side == PG ]]; then
        psql_to "$port" -c "CREATE MATERIALIZED VIEW heavy_v AS $HEAVY_SQL"
      else
        psql_to "$port" -c "CREATE VIEW heavy_v AS $HEAVY_SQL" -c 'CREATE INDEX heavy_v_idx ON heavy_v (grp)'
      fi
      echo "$h0 $(date +%s.%N)" >"$WORK/heavy-$side.span"
    ) >"$WORK/heavy-$side.out" 2>&1 &
    hpid=$!
    p0=$(date +%s.%N)
    mixed_load loaded "$side" "$port" "$DURATION"
    p1=$(date +%s.%N)
    peak=$(rss_mb "$side")
    wait "$hpid"
    grep -q ERROR "$WORK/heavy-$side.out" && { echo "  $side: the heavy view failed:"; head -3 "$WORK/heavy-$side.out"; }
    read -r h0 h1 <"$WORK/heavy-$side.span"
    # Only the transactions that overlapped the hydration count as loaded (a hydration shorter
    # than the phase would otherwise be diluted by the quiet rest of it).
    from=$(awk -v a="$h0" -v b="$p0" 'BEGIN { print (a > b ? a : b) }')
    to=$(awk -v a="$h1" -v b="$p1" 'BEGIN { print (a < b ? a : b) }')
    summarize loaded "$side" "$from" "$to"
    declare -g "H_$side=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.1f", b - a }') $(awk -v a="$from" -v b="$to" 'BEGIN { printf "%.1f", b - a }')"
    echo "bench: $side: the heavy view hydrated in $(eval echo "\$H_$side" | cut -d' ' -f1) s, overlapping the load for $(eval echo "\$H_$side" | cut -d' ' -f2) s (RSS at the end of the load $peak MB, now $(rss_mb "$side") MB)"
  done
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
  esac
  echo "$label"
  printf '  %-26s %12.0f %12.0f %8s\n' "commits/s" "$f_tps" "$p_tps" "$(ratio "$f_tps" "$p_tps")" 2>/dev/null || printf '  %-26s %12s %12s\n' "commits/s" "$f_tps" "$p_tps"
  printf '  %-26s %12s %12s %8s\n' "rows/s" "$f_rows" "$p_rows" "$(ratio "$f_rows" "$p_rows")"
  printf '  %-26s %12s %12s %8s\n' "commit latency p50 ms" "$f_p50" "$p_p50" "$(ratio "$f_p50" "$p_p50")"
  printf '  %-26s %12s %12s %8s\n' "commit latency p99 ms" "$f_p99" "$p_p99" "$(ratio "$f_p99" "$p_p99")"
  printf '  %-26s %12s %12s %8s\n' "commit latency max ms" "$f_max" "$p_max" "$(ratio "$f_max" "$p_max")"
  [[ "$f_fail$p_fail" == 00 ]] || printf '  %-26s %12s %12s\n' "failed transactions" "$f_fail" "$p_fail"
done
if ((ROWS > 0)); then
  echo
  echo "=== idle vs loaded: the mixed load alone, then while a view over $ROWS rows hydrates (Freshet: CREATE INDEX,"
  echo "    PostgreSQL: CREATE MATERIALIZED VIEW) and, in Freshet, ins_v is maintained; loaded = transactions overlapping the hydration ==="
  printf '%-24s %9s %9s %6s   %9s %9s %6s\n' metric "Fr idle" "Fr load" ratio "PG idle" "PG load" ratio
  # M_<tag>_<side>_<kind> are set by summarize() with declare -g.
  for kind in single bulk lookup; do
    for f in 2 3 4 5; do
      case $kind/$f in
        lookup/2) label="lookups/s" ;;
        */2) label="$kind commits/s" ;;
        lookup/3) label="lookup p50 ms" ;;
        */3) label="$kind commit p50 ms" ;;
        lookup/4) label="lookup p99 ms" ;;
        */4) label="$kind commit p99 ms" ;;
        lookup/5) label="lookup max ms" ;;
        */5) label="$kind commit max ms" ;;
      esac
      vals=()
      for side in FR PG; do
        for tag in mixed loaded; do vals+=("$(eval echo "\${M_${tag}_${side}_${kind}:-}" | cut -d' ' -f"$f")"); done
      done
      printf '%-24s %9s %9s %6s   %9s %9s %6s\n' "$label" "${vals[0]:--}" "${vals[1]:--}" "$(ratio "${vals[1]:--}" "${vals[0]:--}")" \
        "${vals[2]:--}" "${vals[3]:--}" "$(ratio "${vals[3]:--}" "${vals[2]:--}")"
    done
    if [[ $kind == bulk ]]; then
      fr_i=$(eval echo "\${M_mixed_FR_bulk:-}" | cut -d' ' -f2) fr_l=$(eval echo "\${M_loaded_FR_bulk:-}" | cut -d' ' -f2)
      pg_i=$(eval echo "\${M_mixed_PG_bulk:-}" | cut -d' ' -f2) pg_l=$(eval echo "\${M_loaded_PG_bulk:-}" | cut -d' ' -f2)
      printf '%-24s %9s %9s %6s   %9s %9s %6s\n' "bulk rows/s" $((${fr_i:-0} * BULK_ROWS)) $((${fr_l:-0} * BULK_ROWS)) "$(ratio "$fr_l" "$fr_i")" \
        $((${pg_i:-0} * BULK_ROWS)) $((${pg_l:-0} * BULK_ROWS)) "$(ratio "$pg_l" "$pg_i")"
    fi
  done
  # shellcheck disable=SC2154
  printf '%-24s %19s %6s   %19s\n' "heavy view hydration s" "$(cut -d' ' -f1 <<<"$H_FR")" "" "$(cut -d' ' -f1 <<<"$H_PG")"
  p99() { eval echo "\${M_$1_$2_$3:-}" | cut -d' ' -f4; }
  echo "loaded/idle p99 (goal in issue 9: commits <= 2, lookups unaffected): Freshet single $(ratio "$(p99 loaded FR single)" "$(p99 mixed FR single)"), bulk $(ratio "$(p99 loaded FR bulk)" "$(p99 mixed FR bulk)"), lookup $(ratio "$(p99 loaded FR lookup)" "$(p99 mixed FR lookup)"); PostgreSQL single $(ratio "$(p99 loaded PG single)" "$(p99 mixed PG single)"), bulk $(ratio "$(p99 loaded PG bulk)" "$(p99 mixed PG bulk)"), lookup $(ratio "$(p99 loaded PG lookup)" "$(p99 mixed PG lookup)")"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
