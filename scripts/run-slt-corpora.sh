#!/usr/bin/env bash
# The fetched sqllogictest suites of `make test-slow` (see test/README.md):
#
#   scripts/run-slt-corpora.sh materialize   Materialize's files, a fresh Freshet per file,
#                                            records classified by `slt_runner --dialect
#                                            materialize`; fails when a file passes fewer records
#                                            than its baseline or any file has more wrong-rows
#                                            records than its baseline
#                                            (test/slt-corpora/materialize.baseline).
#                                            A file's `reset-server` replaces its Freshet by
#                                            a fresh one (scripts/slt-fresh-server.sh), as
#                                            Materialize's runner starts a new server.
#   scripts/run-slt-corpora.sh sqlite        the SQLite random/ + index/ sample, each file once
#                                            against PostgreSQL 15 and once against a fresh
#                                            Freshet; fails when Freshet passes fewer records
#                                            than PostgreSQL on any file, or when any record
#                                            takes Freshet over SLT_MAX_QUERY_MS (1000) or grows
#                                            its memory by over SLT_MAX_QUERY_MB (100; the peak
#                                            RSS during the record minus the RSS before it, from
#                                            /proc/<pid>/status: slt_runner --server-pid).
#                                            SLT_ONLY=<regex> runs only the matching files.
#
# Each Freshet run has a time limit (SLT_FILE_TIMEOUT_S, default 600) and a resident-memory
# cap (SLT_RSS_CAP_MB, default 4096): a watcher kills that Freshet when it is exceeded and the
# file is reported as RSS-CAP instead of hanging the suite. Exit status 3 = files not fetched.
# Results: $BUILD_DIR/slt-corpora/<suite>.md (a markdown table) and <suite>-records.tsv.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
: "${BUILD_DIR:=build/release}"
: "${SLT_CORPORA_DIR:=$ROOT/build/slt-corpora}"
: "${SLT_FILE_TIMEOUT_S:=600}"
: "${SLT_RSS_CAP_MB:=4096}"
SLT="$ROOT/$BUILD_DIR/slt_runner"
OUT="$ROOT/$BUILD_DIR/slt-corpora"
mkdir -p "$OUT"
export FRESHET_BIN="${FRESHET_BIN:-$ROOT/$BUILD_DIR/freshet}"
suite=${1:-}

list_paths() { awk '$0 !~ /^#/ && NF && $1 != "repo" && $1 != "mirror" && $1 != "commit" { print $1 }' "$1"; }
list_commit() { awk '$1 == "commit" { print $2; exit }' "$1"; }

# check_fetched NAME LIST: every listed file is there, at the listed commit.
check_fetched() {
  local name=$1 list=$2 dir="$SLT_CORPORA_DIR/$1" p
  if [[ "$(cat "$dir/COMMIT" 2>/dev/null)" != "$(list_commit "$list")" ]]; then
    echo "skipped: $name files not available, run scripts/fetch-slt-corpora.sh $name"; return 1
  fi
  while read -r p; do
    [[ -s "$dir/$p" ]] || { echo "skipped: $name file $p not available, run scripts/fetch-slt-corpora.sh $name"; return 1; }
  done < <(list_paths "$list")
}

# with_freshet LOGFILE CMD...: runs CMD against a fresh Freshet (FRESHET_PORT exported) under
# the time limit and the RSS cap. Prints RSS-CAP / TIMEOUT / CRASH on stdout when they happen.
with_freshet() {
  local log=$1; shift
  (
    source test/e2e/lib.sh
    start_freshet >/dev/null 2>&1 || { echo "START-FAILED"; exit 0; }
    marker="$FRESHET_DATA_DIR/rss-cap"
    # The server's pid, in a file: scripts/slt-fresh-server.sh (Materialize's reset-server)
    # replaces the server by a fresh one while the runner runs.
    export FRESHET_PID_FILE="$FRESHET_DATA_DIR/pid" FRESHET_BIN
    echo "$FRESHET_PID" >"$FRESHET_PID_FILE"
    running="$FRESHET_DATA_DIR/running"
    touch "$running"
    ( while [[ -e "$running" ]]; do
        pid=$(cat "$FRESHET_PID_FILE" 2>/dev/null)
        rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
        if [[ -n "$rss" ]] && ((rss > SLT_RSS_CAP_MB * 1024)); then
          echo "$((rss / 1024))" >"$marker"; kill -9 "$pid" 2>/dev/null; break
        fi
        sleep 0.5
      done ) &
    watcher=$!
    # @FRESHET_PID@ in the command stands for this server's pid (slt_runner --server-pid).
    args=()
    for a in "$@"; do [[ "$a" == @FRESHET_PID@ ]] && args+=("$FRESHET_PID") || args+=("$a"); done
    timeout "$SLT_FILE_TIMEOUT_S" "${args[@]}" --port "$FRESHET_PORT" >"$log" 2>&1
    rc=$?
    rm -f "$running"
    FRESHET_PID=$(cat "$FRESHET_PID_FILE")
    if [[ -s "$marker" ]]; then echo "RSS-CAP($(cat "$marker") MB)"
    elif ((rc == 124)); then echo "TIMEOUT(${SLT_FILE_TIMEOUT_S} s)"
    elif ! freshet_alive; then echo "CRASH"; tail -n 20 "$FRESHET_LOG" >>"$log"; fi
    stop_freshet
    kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null
    exit 0
  )
}

# counts LOG FILE: "passed failed" of FILE's line in a runner log (0 0 when missing).
counts() {
  local line
  line=$(grep -F "$2: " "$1" | grep -E ': [0-9]+ passed, [0-9]+ failed' | tail -1)
  [[ -n "$line" ]] || { echo "0 0"; return; }
  line=${line#"$2: "}
  echo "$line" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/'
}

run_materialize() {
  local list=test/slt-corpora/materialize.list base=test/slt-corpora/materialize.baseline
  check_fetched materialize "$list" || return 3
  local dir="$SLT_CORPORA_DIR/materialize" md="$OUT/materialize.md" rec="$OUT/materialize-records.tsv"
  local pgrec="$OUT/materialize-pg-records.tsv"
  : >"$rec"; : >"$pgrec"; rm -f "$OUT/materialize.baseline.new"
  # The same files through the same runner against PostgreSQL 15 (a new database per file):
  # a wrong-rows record where PostgreSQL returns what Freshet returns is a place where
  # Materialize differs from PostgreSQL, not a wrong answer of Freshet's.
  (
    source test/e2e/lib.sh
    start_postgres >/dev/null 2>&1 || { echo "cannot start PostgreSQL"; exit 1; }
    k=0
    while read -r f; do
      k=$((k + 1))
      psql -q -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d freshet -c "CREATE DATABASE mz_$k" >/dev/null 2>&1
      timeout "$SLT_FILE_TIMEOUT_S" "$SLT" --dialect materialize --host 127.0.0.1 --port "$PG_REF_PORT" \
        --user freshet --db "mz_$k" --timeout-ms "${SLT_TIMEOUT_MS:-30000}" --records-out "$pgrec" \
        "$dir/$f" >"$OUT/mz-pg-${f%.slt}.log" 2>&1
    done < <(list_paths "$list")
    stop_postgres
  )
  local t=(0 0 0 0 0 0 0) bad=0 f note
  {
    echo "| file | records | passed | error text only | unsupported | wrong rows | of which PostgreSQL 15 agrees with Freshet | other | note |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  } >"$md"
  while read -r f; do
    local log="$OUT/mz-${f%.slt}.log"
    # Materialize's files are run on a server that follows Materialize's conventions where
    # they differ from PostgreSQL's (common/sql_dialect.hpp).
    note=$(FRESHET_EXTRA_ARGS="${FRESHET_EXTRA_ARGS:-} --sql-dialect materialize" with_freshet "$log" "$SLT" --dialect materialize --host 127.0.0.1 --user freshet \
      --reset-command "bash $ROOT/scripts/slt-fresh-server.sh" --db materialize --timeout-ms "${SLT_TIMEOUT_MS:-30000}" --show-failures 1000 \
      --records-out "$rec" "$dir/$f")
    local cls
    cls=$(grep -E "^  classes " "$log" | tail -1)
    local p e u w o
    p=$(sed -nE 's/.* pass=([0-9]+).*/\1/p' <<<"$cls"); e=$(sed -nE 's/.* error-text=([0-9]+).*/\1/p' <<<"$cls")
    u=$(sed -nE 's/.* unsupported=([0-9]+).*/\1/p' <<<"$cls"); w=$(sed -nE 's/.* wrong-rows=([0-9]+).*/\1/p' <<<"$cls")
    o=$(sed -nE 's/.* other=([0-9]+).*/\1/p' <<<"$cls")
    p=${p:-0} e=${e:-0} u=${u:-0} w=${w:-0} o=${o:-0}
    local n=$((p + e + u + w + o)) a
    # Wrong-rows records of this file where PostgreSQL's result signature equals Freshet's.
    a=$(awk -F'\t' -v f="$dir/$f" 'FNR == NR { if ($1 == f) pg[$2] = $4; next }
          $1 == f && $3 == "wrong-rows" && ($2 in pg) && pg[$2] == $4 { n++ } END { print n + 0 }' "$pgrec" "$rec")
    [[ -z "$cls" && -z "$note" ]] && note="no result ($(tail -1 "$log"))"
    printf '| %s | %d | %d | %d | %d | %d | %d | %d | %s |\n' "$f" "$n" "$p" "$e" "$u" "$w" "$a" "$o" "$note" >>"$md"
    printf '%-30s %5d records %5d passed  error-text %3d  unsupported %3d  wrong-rows %3d (PostgreSQL agrees: %d)  other %3d %s\n' \
      "$f" "$n" "$p" "$e" "$u" "$w" "$a" "$o" "$note"
    t[6]=$((t[6] + a))
    t[0]=$((t[0] + n)); t[1]=$((t[1] + p)); t[2]=$((t[2] + e)); t[3]=$((t[3] + u)); t[4]=$((t[4] + w)); t[5]=$((t[5] + o))
    # Ratchet: never fewer passes, never more wrong rows than the committed baseline.
    local bp bw
    bp= bw=
    read -r bp bw < <(awk -v f="$f" '$1 == f { print $2, $3 }' "$base" 2>/dev/null)
    if [[ -n "${bp:-}" ]] && ((p < bp || w > bw)); then
      echo "  REGRESSION $f: $p passed (baseline $bp), $w wrong rows (baseline $bw)"; bad=$((bad + 1))
    fi
    [[ -n "$note" ]] && bad=$((bad + 1))
    echo "$f $((p * 98 / 100)) $w" >>"$OUT/materialize.baseline.new"
  done < <(list_paths "$list")
  if [[ -n "${MZ_WRITE_BASELINE:-}" ]]; then
    { echo "# file, passed records minus 2% (timing slack), wrong-rows records; written by"
      echo "# MZ_WRITE_BASELINE=1 scripts/run-slt-corpora.sh materialize"
      cat "$OUT/materialize.baseline.new"; } >"$base"
    echo "baseline written to $base"
  fi
  rm -f "$OUT/materialize.baseline.new"
  printf '| **total** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | **%d** | |\n' "${t[0]}" "${t[1]}" "${t[2]}" "${t[3]}" "${t[4]}" "${t[6]}" "${t[5]}" >>"$md"
  # Every wrong-rows record, with whether PostgreSQL 15 returned the same as Freshet.
  awk -F'\t' 'FNR == NR { pg[$1 ":" $2] = $4; next }
    $3 == "wrong-rows" {
      k = $1 ":" $2; f = $1; sub(".*/", "", f)
      agree = (k in pg && pg[k] == $4) ? "same as PostgreSQL 15" : "PostgreSQL 15 differs"
      sql = $6; gsub(/\|/, "\\|", sql); d = $5; gsub(/\|/, "\\|", d)
      printf "| %s:%s | %s | %s | `%s` |\n", f, $2, agree, d, sql
    }' "$pgrec" "$rec" | sort -t'|' -k3,3 -k2,2 >"$OUT/materialize-wrong-rows.md.body"
  { echo "| record | PostgreSQL 15 | difference | SQL |"; echo "|---|---|---|---|"
    cat "$OUT/materialize-wrong-rows.md.body"; } >"$OUT/materialize-wrong-rows.md"
  rm -f "$OUT/materialize-wrong-rows.md.body"
  local pct=$((t[0] ? t[1] * 1000 / t[0] : 0))
  echo "materialize: ${t[0]} records, ${t[1]} passed ($((pct / 10)).$((pct % 10))%), error text only ${t[2]}, unsupported ${t[3]}, wrong rows ${t[4]} (PostgreSQL 15 agrees with Freshet on ${t[6]}), other ${t[5]}"
  echo "table: $md; every failed record: $rec; wrong rows: $OUT/materialize-wrong-rows.md"
  ((bad == 0))
}

run_sqlite() {
  local list=test/slt-corpora/sqlite-sample.list
  check_fetched sqlite "$list" || return 3
  local dir="$SLT_CORPORA_DIR/sqlite" md="$OUT/sqlite.md" bad=0 f tp=0 tf=0 to=0
  local stats="$OUT/sqlite-query-stats.tsv"
  : >"$stats"
  {
    echo "| file | records | PostgreSQL 15 passed | Freshet passed | over ${SLT_MAX_QUERY_MS:-1000} ms / ${SLT_MAX_QUERY_MB:-100} MB | slowest (ms) | note |"
    echo "|---|---:|---:|---:|---:|---:|---|"
  } >"$md"
  (
    source test/e2e/lib.sh
    start_postgres >/dev/null 2>&1 || { echo "cannot start PostgreSQL"; exit 1; }
    while read -r f; do
      timeout "$SLT_FILE_TIMEOUT_S" "$SLT" --host 127.0.0.1 --port "$PG_REF_PORT" --user freshet \
        --db freshet --fresh-db-per-file --timeout-ms "${SLT_TIMEOUT_MS:-30000}" \
        "$dir/$f" >"$OUT/pg-$(echo "$f" | tr / _).log" 2>&1
    done < <(list_paths "$list" | grep -E "${SLT_ONLY:-.}")
    stop_postgres
  )
  while read -r f; do
    local log="$OUT/fr-$(echo "$f" | tr / _).log" note pgp pgf frp frf over slow
    note=$(with_freshet "$log" "$SLT" --host 127.0.0.1 --user freshet --db freshet \
      --timeout-ms "${SLT_TIMEOUT_MS:-30000}" --show-failures 200 \
      --server-pid @FRESHET_PID@ --max-query-ms "${SLT_MAX_QUERY_MS:-1000}" \
      --max-query-mb "${SLT_MAX_QUERY_MB:-100}" --query-stats-out "$stats" "$dir/$f")
    read -r pgp pgf < <(counts "$OUT/pg-$(echo "$f" | tr / _).log" "$dir/$f")
    read -r frp frf < <(counts "$log" "$dir/$f")
    local n=$((pgp + pgf))
    over=$(grep -F "$dir/$f: " "$log" | sed -nE 's/.*: ([0-9]+) over limits$/\1/p' | tail -1)
    over=${over:-0}
    slow=$(awk -F'\t' -v p="$dir/$f:" 'index($1, p) == 1 && $2 > m { m = $2 } END { print m + 0 }' "$stats")
    if ((frp < pgp)); then note="FEWER ${note}"; fi
    if ((over > 0)); then note="OVER-LIMIT ${note}"; fi
    [[ -n "$note" ]] && bad=$((bad + 1))
    tp=$((tp + pgp)); tf=$((tf + frp)); to=$((to + over))
    printf '| %s | %d | %d | %d | %d | %d | %s |\n' "$f" "$n" "$pgp" "$frp" "$over" "$slow" "$note" >>"$md"
    printf '%-45s %6d records  PostgreSQL %6d  Freshet %6d  over limits %4d  slowest %6d ms  %s\n' "$f" "$n" "$pgp" "$frp" "$over" "$slow" "$note"
  done < <(list_paths "$list" | grep -E "${SLT_ONLY:-.}")
  printf '| **total** | | **%d** | **%d** | **%d** | | |\n' "$tp" "$tf" "$to" >>"$md"
  # The records over the limits and the 20 slowest, with their memory growth.
  {
    echo "| record | ms | memory growth (MB) | SQL |"
    echo "|---|---:|---:|---|"
    sort -t$'\t' -k2,2nr "$stats" | head -20 | awk -F'\t' '{ sql = $4; gsub(/\|/, "\\|", sql); sub(".*/test/", "", $1)
      printf "| %s | %d | %d | `%s` |\n", $1, $2, $3 / 1024, sql }'
  } >"$OUT/sqlite-slowest.md"
  {
    echo "| record | ms | memory growth (MB) | SQL |"
    echo "|---|---:|---:|---|"
    awk -F'\t' -v ms="${SLT_MAX_QUERY_MS:-1000}" -v mb="${SLT_MAX_QUERY_MB:-100}" '$2 > ms || $3 > mb * 1024' "$stats" |
      sort -t$'\t' -k2,2nr | awk -F'\t' '{ sql = $4; gsub(/\|/, "\\|", sql); sub(".*/test/", "", $1)
      printf "| %s | %d | %d | `%s` |\n", $1, $2, $3 / 1024, sql }'
  } >"$OUT/sqlite-over-limits.md"
  echo "sqlite sample: PostgreSQL $tp passed, Freshet $tf passed, $to records over the limits; $bad files worse than PostgreSQL, over a limit, over the cap or timed out"
  echo "table: $md; records over the limits: $OUT/sqlite-over-limits.md; slowest: $OUT/sqlite-slowest.md; every record's time and memory: $stats"
  ((bad == 0))
}

case "$suite" in
  materialize) run_materialize ;;
  sqlite) run_sqlite ;;
  *) echo "usage: $0 materialize|sqlite" >&2; exit 2 ;;
esac
