#!/usr/bin/env bash
# Cancel latency: CANCELS (50) cancels of each long query (a generate_series aggregate, the same
# grouped, and a big cross join), each sent DELAY_S (0.1:2.0: uniformly random in [0.1, 2.0],
# so anywhere in the query's run) after the query started, through psycopg's
# conn.cancel() (libpq's PQcancel: a CancelRequest with the backend key). Latency is from the
# cancel request to the client holding the 57014 error. Prints p50/p90/p99/max per query; then
# statement_timeout.py: how long after a statement_timeout the 57014 arrives.
# Then the long query: a filter of md5(md5(md5(x))) over a table of LONG_ROWS rows (12,000,000:
# about 20 s in Freshet on this 2-core machine when it is quiet; a scan in parallel on the
# workers that holds little memory), timed once uncancelled and then cancelled LONG_CANCELS times at delays drawn
# from [0.1 s, 90% of its run].
#   CANCELS (50), DELAY_S (0.1:2.0, or a fixed number), TARGETS ("freshet postgres"), FRESHET_BIN,
#   LONG_ROWS (12000000), LONG_CANCELS (30; 0 skips the long query)
#   CANCEL_TRACE_DIR: Freshet runs with FRESHET_TRACE=1; per query, DIR/<query>.runs (client
#   timestamps) and DIR/<query>.trace (the server's); bench/cancel_trace.py lines them up.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
CANCELS=${CANCELS:-50}
DELAY_S=${DELAY_S:-0.1:2.0}
TARGETS=${TARGETS:-freshet postgres}
QUERIES=(
  "generate_series|SELECT sum(g) FROM generate_series(1, 400000000) g"
  "group_by|SELECT count(*) FROM (SELECT g % 1000 AS k, count(*) FROM generate_series(1, 400000000) g GROUP BY 1) s"
  "cross_join|SELECT count(*) FROM cancel_big a, cancel_big b WHERE a.x + b.x = 7"
)
LONG_ROWS=${LONG_ROWS:-12000000}
LONG_CANCELS=${LONG_CANCELS:-30}
LONG_QUERY="SELECT count(*) FROM cancel_rows WHERE md5(md5(md5(x::text))) < '1'"
TRACE_DIR=${CANCEL_TRACE_DIR:-}
[[ -n "$TRACE_DIR" ]] && { mkdir -p "$TRACE_DIR"; export FRESHET_TRACE=1; }
for target in $TARGETS; do
  E2E_TARGET=$target start_freshet || exit 1
  psql -X -q -c "CREATE TABLE cancel_big (x int)" -c "INSERT INTO cancel_big SELECT * FROM generate_series(1, 20000)"
  for q in "${QUERIES[@]}"; do
    name=${q%%|*} sql=${q#*|}
    printf '%-9s %-16s ' "$target" "$name"
    if [[ -n "$TRACE_DIR" && $target == freshet ]]; then
      : >"$TRACE_DIR/$name.runs"
      start_line=$(($(wc -l <"$FRESHET_LOG") + 1))
      CANCEL_LOG="$TRACE_DIR/$name.runs" /usr/bin/python3 "$BENCH_DIR/cancel.py" "$CANCELS" "$sql" "$DELAY_S"
      tail -n "+$start_line" "$FRESHET_LOG" | grep '^freshet-trace' >"$TRACE_DIR/$name.trace"
    else
      /usr/bin/python3 "$BENCH_DIR/cancel.py" "$CANCELS" "$sql" "$DELAY_S"
    fi
  done
  if ((LONG_CANCELS > 0)); then
    # In slices of 2 M rows: one transaction may write at most 4 M records in Freshet.
    psql -X -q -c "CREATE TABLE cancel_rows (x int)"
    for ((lo = 1; lo <= LONG_ROWS; lo += 2000000)); do
      psql -X -q -c "INSERT INTO cancel_rows SELECT * FROM generate_series($lo, $((lo + 2000000 - 1 < LONG_ROWS ? lo + 2000000 - 1 : LONG_ROWS)))"
    done
    [[ $target == postgres ]] && psql -X -q -c "VACUUM ANALYZE cancel_rows"
    start_ns=$(date +%s%N)
    psql -X -q -o /dev/null -c "$LONG_QUERY"
    run_s=$(awk -v ns=$(($(date +%s%N) - start_ns)) 'BEGIN { printf "%.1f", ns / 1e9 }')
    printf '%-9s %-16s ' "$target" "long_${run_s}s"
    /usr/bin/python3 "$BENCH_DIR/cancel.py" "$LONG_CANCELS" "$LONG_QUERY" \
      "0.1:$(awk -v s="$run_s" 'BEGIN { printf "%.1f", s * 0.9 }')"
  fi
  printf '%-9s ' "$target"; /usr/bin/python3 "$BENCH_DIR/statement_timeout.py" | paste -sd ' '
  E2E_TARGET=$target stop_freshet
done
