#!/usr/bin/env bash
# A Kafka sink writing a table's snapshot and then a stream of updates, next to kcat producing
# the very same messages into the same broker (the limit of the broker path). Freshet's own
# Kafka API is the broker. See "Kafka sink throughput" in bench/README.md.
#
#   bench/kafka_sink.sh                  # 1M rows, 200k updates, RUNS=3
#   ROWS=200000 UPDATES=50000 RUNS=1 bench/kafka_sink.sh
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/test/e2e/lib.sh"
: "${ROWS:=1000000}" "${UPDATES:=200000}" "${RUNS:=3}"
command -v kcat >/dev/null || { echo "kafka_sink: kcat not installed (apt-get install kcat)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/freshet-sink-bench.XXXXXX)
start_freshet || { echo "kafka_sink: freshet did not start" >&2; exit 1; }
trap 'stop_freshet; rm -rf "$WORK"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
now() { date +%s.%N; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
K=(kcat -b "127.0.0.1:$FRESHET_KAFKA_PORT")

q "CREATE TABLE t (id bigint PRIMARY KEY, grp int, amount numeric(12,2), note text)"
q "INSERT INTO t SELECT i, i % 100, (i % 10000)::numeric / 100, 'row ' || i FROM generate_series(1, $ROWS) i"
q "CREATE CONNECTION k TO KAFKA (BROKER '127.0.0.1:$FRESHET_KAFKA_PORT')"
# wait_messages SINK N: until the sink has written N messages; prints the seconds it took.
wait_messages() {
  local t0 n
  t0=$(now)
  while true; do
    n=$(q "SELECT messages_total FROM mz_sink_statuses WHERE name = '$1'")
    [[ -n "$n" && "$n" -ge "$2" ]] && break
    sleep 0.05
  done
  echo "$(now) - $t0" | bc
}
snap=() upd=() lag=() ref=()
for run in $(seq 1 "$RUNS"); do
  t0=$(now)
  q "CREATE SINK s$run FROM t INTO KAFKA CONNECTION k (TOPIC 'bench.sink$run', TOPIC PARTITION COUNT 1) FORMAT JSON ENVELOPE UPSERT"
  w=$(wait_messages "s$run" "$ROWS")
  snap+=("$(echo "$(now) - $t0" | bc)")
  # Updates: UPDATES rows in transactions of 1,000.
  t0=$(now)
  for ((lo = 1; lo <= UPDATES; lo += 1000)); do
    q "UPDATE t SET amount = amount + 1 WHERE id BETWEEN $lo AND $((lo + 999)) AND id <= $UPDATES"
  done
  upd+=("$(echo "$(now) - $t0" | bc)")
  lag+=("$(wait_messages "s$run" $((ROWS + UPDATES)))")
  q "DROP SINK s$run"
  # The reference: kcat producing the snapshot's messages (read back from the sink's topic).
  "${K[@]}" -C -e -q -t "bench.sink$run" -o beginning -c "$ROWS" -K$'\t' -f '%k\t%s\n' >"$WORK/msgs"
  t0=$(now)
  "${K[@]}" -P -t "bench.ref$run" -K$'\t' -l "$WORK/msgs" || { echo "kcat -P failed" >&2; exit 1; }
  ref+=("$(echo "$(now) - $t0" | bc)")
done
s=$(echo "${snap[*]}" | median) u=$(echo "${upd[*]}" | median) l=$(echo "${lag[*]}" | median) r=$(echo "${ref[*]}" | median)
bytes=$(wc -c <"$WORK/msgs")
printf 'snapshot:  %d messages (%d MB) in %.2f s = %.0f messages/s (median of %d)\n' "$ROWS" $((bytes / 1000000)) "$s" "$(echo "$ROWS / $s" | bc -l)" "$RUNS"
printf 'updates:   %d rows changed by UPDATEs of 1000 rows (%.2f s of psql); the sink had written all of them %.3f s after the last commit\n' "$UPDATES" "$u" "$l"
printf 'kcat -P:   the same %d messages in %.2f s = %.0f messages/s\n' "$ROWS" "$r" "$(echo "$ROWS / $r" | bc -l)"
printf 'sink snapshot / kcat -P: %.2f\n' "$(echo "($ROWS / $s) / ($ROWS / $r)" | bc -l)"
