#!/usr/bin/env bash
# Kafka API limits (issue 12, "smaller"):
#   - 20 concurrent Fetches of 64 MiB each (kcat consumers with fetch.max.bytes and
#     max.partition.fetch.bytes at 64 MiB, reading a 100 MiB raw topic) do not hold GBs: the
#     server's peak RSS stays under 450 MB (before the Fetch byte budget it held 5.2 GB).
#   - A produced record over the storage limit (65 MiB > 64 MiB per record) answers
#     MESSAGE_TOO_LARGE (10), not KAFKA_STORAGE_ERROR (56), and the server serves on.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=kafka_limits
BUGS=()
fail() { BUGS+=("$1"); echo "  FAIL: $1"; }
WORK=$(mktemp -d /tmp/freshet-kafka-limits.XXXXXX)
start_freshet || { e2e_fail $NAME "server did not start"; rm -rf "$WORK"; exit 1; }
trap 'rm -rf "$WORK"; _e2e_cleanup' EXIT
B="127.0.0.1:$FRESHET_KAFKA_PORT"
hwm_mb() { awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$FRESHET_PID/status"; }
rss_mb() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$FRESHET_PID/status"; }

# 100 records of 1 MiB into a raw topic.
python3 -c "
import sys
for i in range(100):
    sys.stdout.write(('%04d' % i) + 'x' * ((1 << 20) - 4) + '\n')
" >"$WORK/big.txt"
out=$(kcat -b "$B" -P -t bigraw -l -X message.max.bytes=2000000 -X topic.metadata.refresh.interval.ms=100 "$WORK/big.txt" 2>&1) ||
  fail "produce 100 MiB: $out"
n=$(kcat -b "$B" -C -t bigraw -o beginning -e -q -f '%o\n' -X fetch.max.bytes=4000000 2>/dev/null | wc -l)
[[ "$n" == 100 ]] || fail "read back $n records, want 100"
before_rss=$(rss_mb) before_hwm=$(hwm_mb)
echo "  after loading 100 MiB: RSS $before_rss MB, peak $before_hwm MB"

t0=$(date +%s%N)
pids=()
for i in $(seq 1 20); do
  kcat -b "$B" -C -t bigraw -o beginning -e -q -f '%o\n' -X fetch.max.bytes=67108864 \
    -X max.partition.fetch.bytes=67108864 -X receive.message.max.bytes=200000000 \
    -X queued.max.messages.kbytes=65536 >"$WORK/c$i.out" 2>"$WORK/c$i.err" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(date +%s%N)
for i in $(seq 1 20); do
  n=$(wc -l <"$WORK/c$i.out")
  [[ "$n" == 100 ]] || fail "consumer $i read $n records, want 100: $(tail -2 "$WORK/c$i.err")"
done
peak=$(hwm_mb)
echo "  20 concurrent 64 MiB Fetch consumers of 100 MiB: $(((t1 - t0) / 1000000)) ms, RSS $(rss_mb) MB, peak $peak MB"
((peak < 450)) || fail "peak RSS $peak MB with 20 concurrent Fetches (limit 450)"

# A 65 MiB record: MESSAGE_TOO_LARGE.
python3 -c "import sys; sys.stdout.write('y' * (65 << 20))" >"$WORK/huge.bin"
out=$(timeout 60 kcat -b "$B" -P -t bigraw -X message.max.bytes=100000000 "$WORK/huge.bin" 2>&1)
echo "$out" | grep -qi "too large" || fail "65 MiB record: expected MESSAGE_TOO_LARGE, got: $(echo "$out" | tail -3)"
echo "$out" | grep -qi "storage" && fail "65 MiB record answered a storage error: $out"
out=$(kcat -b "$B" -L 2>&1) || fail "kcat -L after the refused record: $out"
psql -X -q -c "SELECT 1" >/dev/null 2>&1 || fail "psql after the refused record"
freshet_alive || fail "freshet died"

if ((${#BUGS[@]})); then
  echo "FAIL $NAME: ${#BUGS[@]} failed check(s):"; printf '  %s\n' "${BUGS[@]}"
  exit 1
fi
e2e_pass $NAME
