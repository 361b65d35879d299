#!/usr/bin/env bash
# bench/concurrency.sh's load, "mixed" (idle) and "loaded" phases against Freshet alone (no PostgreSQL),
# for A/B runs of two binaries (FRESHET_BIN): per-1M-row server CPU of the load (/proc/PID/stat),
# p50/p99/max of single, bulk and lookup in each phase (loaded: transactions overlapping the
# heavy view's hydration), and optionally perf during the loaded phase. See bench/README.md,
# "Concurrency".
#   ROWS=2000000 DURATION=10 FRESHET_BIN=... bench/loaded_phase.sh      PERF=cpu|off (sched_switch)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/test/e2e/lib.sh"
: "${ROWS:=2000000}" "${DURATION:=10}" "${LOAD_BATCH:=1000000}" "${LOOKUP_ROWS:=100000}" "${PERF:=}"
PGBENCH=$PG_BIN/pgbench
WORK=$(mktemp -d /tmp/freshet-bench-loaded.XXXXXX)
echo "work $WORK bin $FRESHET_BIN"
cleanup() { stop_freshet; }
trap cleanup EXIT
E2E_TARGET=freshet start_freshet || exit 1
FR=$FRESHET_PORT
psql_to() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U freshet -d freshet -v ON_ERROR_STOP=1 "${@:2}"; }
cpu_s() { awk '{ printf "%.2f", ($14 + $15) / 100 }' /proc/$FRESHET_PID/stat; }
threads() { for t in /proc/$FRESHET_PID/task/*; do echo "$(cat $t/comm 2>/dev/null | tr ' ' _) $(awk '{print $14+$15}' $t/stat 2>/dev/null)"; done | awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }' | sort; }
psql_to $FR -c 'CREATE TABLE single_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' \
  -c 'CREATE TABLE bulk_rows (id bigint PRIMARY KEY, client int NOT NULL, v text NOT NULL)' >/dev/null || exit 1
cat >"$WORK/single.sql" <<'EOF'
\set id random(1, 9000000000000000000)
INSERT INTO single_rows VALUES (:id, :client_id, 'payload-abcdefghijklmnop');
EOF
source "$ROOT/bench/pgbench_scripts.sh"
bulk_insert_script bulk_rows 1000 "$WORK/bulk.sql"
cat >"$WORK/lookup.sql" <<EOF2
\\set id random(1, $LOOKUP_ROWS)
SELECT v FROM lk_v WHERE id = :id;
EOF2
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
psql_to $FR -c 'CREATE TABLE big (id bigint PRIMARY KEY, grp bigint NOT NULL, v bigint NOT NULL, pad text NOT NULL)' \
  -c 'CREATE TABLE lk (id bigint PRIMARY KEY, v text NOT NULL)' \
  -c "INSERT INTO lk SELECT g, 'value-' || g FROM generate_series(1, $LOOKUP_ROWS) AS g" >/dev/null || exit 1
for ((lo = 1; lo <= ROWS; lo += LOAD_BATCH)); do
  hi=$((lo + LOAD_BATCH - 1 > ROWS ? ROWS : lo + LOAD_BATCH - 1))
  c0=$(cpu_s); s0=$(date +%s.%N)
  psql_to $FR -c "INSERT INTO big SELECT g, g % 10000, g % 997, 'padding-abcdefgh' FROM generate_series($lo, $hi) AS g" >/dev/null || exit 1
  echo "  load $lo..$hi: wall $(awk -v a=$s0 -v b=$(date +%s.%N) 'BEGIN{printf "%.1f", b-a}') s, server cpu $(awk -v a=$c0 -v b=$(cpu_s) 'BEGIN{printf "%.1f", b-a}') s"
done
psql_to $FR -c 'CREATE VIEW lk_v AS SELECT id, v FROM lk' -c 'CREATE INDEX lk_v_idx ON lk_v (id)' >/dev/null || exit 1
echo "loaded in $(awk -v a=$t0 -v b=$(date +%s.%N) 'BEGIN{printf "%.1f", b-a}') s, server cpu $(cpu_s) s, RSS $(ps -o rss= -p $FRESHET_PID) kB"
mixed() {
  local tag=$1 kind pids=()
  for kind in single bulk lookup; do
    local clients script jobs=1
    case $kind in single) clients=64 script=$WORK/single.sql jobs=2 ;; bulk) clients=2 script=$WORK/bulk.sql ;; lookup) clients=1 script=$WORK/lookup.sql ;; esac
    mkdir -p "$WORK/$tag-$kind"
    "$PGBENCH" -n -h 127.0.0.1 -p $FR -U freshet -c $clients -j $jobs -T $DURATION -f $script -l --log-prefix="$WORK/$tag-$kind/log" freshet >"$WORK/$tag-$kind.out" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
}
stats() {
  cat "$1"/log* 2>/dev/null | awk -v h0="${2:-0}" -v h1="${3:-1e12}" '{ end = $5 + $6 / 1e6; start = end - $3 / 1e6; if (start < h1 && end > h0) print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 - - -"; exit } i50 = int(NR * 0.5); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
          printf "n %d p50 %.2f p99 %.2f max %.2f\n", NR, v[i50] / 1000, v[i99] / 1000, v[NR] / 1000 }'
}
threads > $WORK/th0
p0=$(date +%s.%N); mixed mixed; p1=$(date +%s.%N)
threads > $WORK/th1
for k in single bulk lookup; do echo "idle $k: $(stats $WORK/mixed-$k $p0 $p1)"; done
echo "idle thread cpu (ticks):"; join $WORK/th0 $WORK/th1 | awk '{ d = $3 - $2; if (d > 0) printf "  %s %d\n", $1, d }'
t0=$(date +%s.%N)
psql_to $FR -c "CREATE VIEW ins_v AS SELECT x.client, count(*) AS n, count(DISTINCT x.id % 1000) AS d, min(x.id) AS lo, max(x.id) AS hi, sum(b.v) AS s FROM (SELECT id, client FROM single_rows UNION ALL SELECT id, client FROM bulk_rows) x JOIN big b ON b.id = x.id % $ROWS + 1 GROUP BY x.client" -c 'CREATE INDEX ins_v_idx ON ins_v (client)' >/dev/null || exit 1
echo "ins_v hydrated in $(awk -v a=$t0 -v b=$(date +%s.%N) 'BEGIN{printf "%.1f", b-a}') s RSS $(ps -o rss= -p $FRESHET_PID) kB"
threads > $WORK/th2
( h0=$(date +%s.%N); psql_to $FR -c "CREATE VIEW heavy_v AS SELECT grp, count(*) AS n, sum(v) AS s, count(DISTINCT v) AS dv, min(id) AS lo, max(id) AS hi FROM big GROUP BY grp" -c 'CREATE INDEX heavy_v_idx ON heavy_v (grp)'; echo "$h0 $(date +%s.%N)" > $WORK/heavy.span ) > $WORK/heavy.out 2>&1 &
hpid=$!
if [[ -n "$PERF" ]]; then
  sleep 1
  if [[ $PERF == off ]]; then
    perf record -e sched:sched_switch -g -p $FRESHET_PID -o $WORK/perf.data -- sleep $((DURATION - 2)) >/dev/null 2>&1 &
  else
    perf record -F 499 -g -p $FRESHET_PID -o $WORK/perf.data -- sleep $((DURATION - 2)) >/dev/null 2>&1 &
  fi
  perfpid=$!
fi
p0=$(date +%s.%N); mixed loaded; p1=$(date +%s.%N)
threads > $WORK/th3
wait $hpid
read -r h0 h1 < $WORK/heavy.span
from=$(awk -v a="$h0" -v b="$p0" 'BEGIN { print (a > b ? a : b) }'); to=$(awk -v a="$h1" -v b="$p1" 'BEGIN { print (a < b ? a : b) }')
echo "heavy hydrated in $(awk -v a=$h0 -v b=$h1 'BEGIN{printf "%.1f", b-a}') s, overlap $(awk -v a=$from -v b=$to 'BEGIN{printf "%.1f", b-a}') s"
for k in single bulk lookup; do echo "loaded $k: $(stats $WORK/loaded-$k $from $to)"; done
echo "loaded thread cpu (ticks):"; join $WORK/th2 $WORK/th3 | awk '{ d = $3 - $2; if (d > 0) printf "  %s %d\n", $1, d }'
[[ -n "$PERF" ]] && wait $perfpid
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$FRESHET_LOG" $WORK/freshet.log 2>/dev/null
