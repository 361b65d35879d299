#!/usr/bin/env bash
# Reading a whole collection through the Kafka API (kcat) against reading its segment files
# straight from disk. See "Kafka API read throughput" in bench/README.md.
#
#   bench/kafka_read.sh                       # 10M records, RUNS=3
#   RECORDS=1000000 RUNS=1 bench/kafka_read.sh
#   CHUNK=2000000 bench/kafka_read.sh         # records per transaction (storage batch); see README
#   FRESHET_BIN=... (default build/release/freshet); the storage reader is compiled against the
#   libraries next to it (src/storage/libfreshet_storage.a, src/common/libfreshet_common.a).
#   DROP_CACHES=0 skips the cold-cache `cat` (it needs root: echo 3 > /proc/sys/vm/drop_caches).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/test/e2e/lib.sh"
source "$ROOT/test/e2e/kafka/freshet.sh"
: "${RECORDS:=10000000}" "${CHUNK:=20000}" "${RUNS:=3}" "${DROP_CACHES:=1}"
command -v kcat >/dev/null || { echo "kafka_read: kcat not installed (apt-get install kcat)" >&2; exit 1; }
BUILD=$(dirname "$FRESHET_BIN")
WORK=$(mktemp -d /tmp/freshet-kafka-bench.XXXXXX)
DATA="$WORK/data"
trap 'kf_stop >/dev/null 2>&1; rm -rf "$WORK"' EXIT
die() { echo "kafka_read: $*" >&2; [[ -f "$DATA.log" ]] && tail -n 20 "$DATA.log" >&2; exit 1; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# The storage reader (bench/kafka_read_scan.cpp), built against this build's libraries.
SCAN="$WORK/kafka_read_scan"
c++ -O2 -std=c++20 -DFMT_SHARED -I "$ROOT/src" "$ROOT/bench/kafka_read_scan.cpp" \
  "$BUILD/src/storage/libfreshet_storage.a" "$BUILD/src/common/libfreshet_common.a" \
  -lfmt -lcrypto -lre2 -lpthread -o "$SCAN" || die "building kafka_read_scan against $BUILD failed (build freshet first)"

kf_start "$DATA" --kafka-partitions 1 || die "freshet did not start"
TOPIC=freshet.public.big
K=(kcat -b "$KAFKA_BROKER" -C -t $TOPIC -o beginning -e -q)

# Load: a materialized view over generate_series, fed CHUNK rows per INSERT into a 1-row control
# table (the fastest path measured on 2 cores; see README). Each INSERT is one transaction, so the
# view's collection gets one storage batch of CHUNK records per statement.
echo "loading $RECORDS records in transactions of $CHUNK ..."
kf_psql "CREATE TABLE ctl (lo bigint, hi bigint)" || die "create ctl"
kf_psql "CREATE MATERIALIZED VIEW big AS SELECT g AS id, g % 1000 AS k, 'row ' || g AS note FROM ctl, generate_series(ctl.lo, ctl.hi) g" || die "create big"
t0=$(now)
for ((lo = 1; lo <= RECORDS; lo += CHUNK)); do
  hi=$((lo + CHUNK - 1)); ((hi > RECORDS)) && hi=$RECORDS
  echo "INSERT INTO ctl VALUES ($lo, $hi);"
done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null || die "loading failed"
n=$(kf_psql "SELECT count(*) FROM big")
t1=$(now)
load_s=$(secs "$t0" "$t1")
[[ "$n" == "$RECORDS" ]] || die "big has $n rows, want $RECORDS"
printf 'loaded %d records in %.1f s (%.0f records/s)\n' "$RECORDS" "$load_s" "$(echo "$RECORDS / $load_s" | bc -l)"

COLL=$(ls -d "$DATA"/collections/* | while read -r d; do echo "$(du -sb "$d" | cut -f1) $d"; done | sort -n | tail -1 | cut -d' ' -f2)
# Background compaction rewrites freshly sealed segments once; wait until the files settle.
prev="" same=0
for i in $(seq 1 90); do
  cur=$(ls -l "$COLL" | md5sum)
  if [[ "$cur" == "$prev" ]]; then same=$((same + 1)); ((same >= 12)) && break; else same=0; fi
  prev=$cur; sleep 1
done

# The Kafka API: kcat reading everything (RUNS times), then one pass counting records and one
# counting the payload bytes (Avro key + value as kcat prints them).
kcat_s=()
for r in $(seq 1 "$RUNS"); do
  t0=$(now)
  "${K[@]}" -f '%k%s\n' >/dev/null || die "kcat failed"
  kcat_s+=("$(secs "$t0" "$(now)")")
done
t0=$(now)
recs=$("${K[@]}" -f '%o\n' | wc -l)
kcat_o_s=$(secs "$t0" "$(now)")
[[ "$recs" == "$RECORDS" ]] || die "kcat read $recs records, want $RECORDS"
payload=$("${K[@]}" -f '%k%s' | wc -c)
kf_stop || die "freshet did not stop cleanly"

# Straight from disk: the segment files (cat), and src/storage's Collection::scan.
seg_bytes=$(cat "$COLL"/seg-*.log | wc -c)
cold=""
if [[ "$DROP_CACHES" == 1 ]] && sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
  t0=$(now); cat "$COLL"/seg-*.log >/dev/null; cold=$(secs "$t0" "$(now)")
fi
cat "$COLL"/seg-*.log >/dev/null
cat_s=()
for r in $(seq 1 "$RUNS"); do t0=$(now); cat "$COLL"/seg-*.log >/dev/null; cat_s+=("$(secs "$t0" "$(now)")"); done
scan_s=() scan_bytes=0
for r in $(seq 1 "$RUNS"); do
  out=$("$SCAN" "$DATA" "${COLL##*/}") || die "kafka_read_scan failed"
  [[ $(echo "$out" | awk '{print $4}') == "$RECORDS" ]] || die "kafka_read_scan: $out"
  scan_bytes=$(echo "$out" | awk '{print $6}')
  scan_s+=("$(echo "$out" | awk '{print $10}')")
done

k=$(echo "${kcat_s[*]}" | median)
c=$(echo "${cat_s[*]}" | median)
s=$(echo "${scan_s[*]}" | median)
row() {  # NAME SECONDS BYTES
  printf '%-44s %11d %9.1f %8.2f %12.0f %9.1f %8.1fx %8.1fx\n' "$1" "$RECORDS" "$(echo "$3 / 1000000" | bc -l)" "$2" \
    "$(echo "$RECORDS / $2" | bc -l)" "$(echo "$3 / $2 / 1000000" | bc -l)" "$(echo "$2 / $c" | bc -l)" "$(echo "$2 / $s" | bc -l)"
}
echo
echo "$RECORDS records of $TOPIC (id bigint, k bigint, note text; keyed by the row), 1 partition,"
echo "$(ls "$COLL" | grep -c '^seg-') segment files, loaded in transactions of $CHUNK; median of $RUNS runs"
printf '%-44s %11s %9s %8s %12s %9s %9s %9s\n' reader records MB seconds records/s MB/s 'vs cat' 'vs scan'
row "kcat -C -f '%k%s\\n' >/dev/null (Kafka API)" "$k" "$payload"
row "kcat -C -f '%o\\n' | wc -l (Kafka API)" "$kcat_o_s" "$payload"
row "Collection::scan + unpack (kafka_read_scan)" "$s" "$scan_bytes"
row "cat seg-*.log >/dev/null (warm cache)" "$c" "$seg_bytes"
[[ -n "$cold" ]] && row "cat seg-*.log >/dev/null (cold cache)" "$cold" "$seg_bytes"
echo "MB: Kafka rows = Avro key + value bytes as delivered; scan = stored key + value bytes;"
echo "cat = segment file bytes. 'vs' = seconds / seconds of that reader (above 1: slower)."
echo "kcat runs: ${kcat_s[*]} s; load ${load_s} s"
