#!/usr/bin/env bash
# Runs the test suites against a freshly started server and prints `N passed, M failed`.
#
#   scripts/run-tests.sh [unit] [slt] [e2e] [slow] [fuzz-slow]     (default: unit slt e2e)
#
# Counts: unit = ctest tests, slt = sqllogictest records, e2e = test scripts.
# E2E_TARGET=postgres runs slt and e2e against a throwaway PostgreSQL 15 instead of Freshet
# (that is how the expectations were validated). BUILD_DIR defaults to build/release.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
: "${BUILD_DIR:=build/release}"
export FRESHET_BIN="${FRESHET_BIN:-$ROOT/$BUILD_DIR/freshet}"
SLT="$ROOT/$BUILD_DIR/slt_runner"
phases=("$@")
((${#phases[@]})) || phases=(unit slt e2e)

total_pass=0
total_fail=0
summary=()
add() {  # add PHASE PASSED FAILED
  total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3))
  summary+=("$(printf '%-8s %6d passed, %d failed' "$1" "$2" "$3")")
}

run_unit() {
  echo "=== unit tests (ctest) ==="
  local out rc
  out=$(ctest --test-dir "$BUILD_DIR" -j2 --output-on-failure 2>&1); rc=$?
  echo "$out" | tail -n 40
  local line total failed
  line=$(echo "$out" | grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' | tail -1)
  if [[ -z "$line" ]]; then
    if echo "$out" | grep -q 'No tests were found'; then add unit 0 0; return; fi
    add unit 0 1; return
  fi
  failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
  total=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
  ((rc != 0 && failed == 0)) && failed=1
  add unit $((total - failed)) "$failed"
}

# run_slt NAME FILES... : one server for the whole suite; the runner isolates files.
run_slt() {
  local name=$1; shift
  echo "=== sqllogictest: $name ==="
  if [[ ! -x "$SLT" ]]; then echo "slt_runner not built"; add "$name" 0 1; return; fi
  (
    source test/e2e/lib.sh
    start_freshet || { echo "0 passed, 1 failed"; exit 1; }
    # `onlyif freshet` / `skipif freshet` mark records where Freshet deliberately differs.
    alias_args=()
    [[ "${E2E_TARGET:-freshet}" != postgres ]] && alias_args=(--engine-alias freshet)
    timeout "${SLT_SUITE_TIMEOUT_S:-1200}" "$SLT" --host 127.0.0.1 --port "$FRESHET_PORT" \
      --user freshet --db freshet --timeout-ms "${SLT_TIMEOUT_MS:-30000}" "${alias_args[@]}" "$@"
    rc=$?
    ((rc == 124)) && echo "suite timed out after ${SLT_SUITE_TIMEOUT_S:-1200} s"
    if ! freshet_alive; then echo "freshet died during the suite"; tail -n 30 "$FRESHET_LOG"; fi
  ) >"$ROOT/$BUILD_DIR/slt-$name.log" 2>&1
  grep -E '^(FAIL|  |    )|: [0-9]+ passed' "$ROOT/$BUILD_DIR/slt-$name.log" | head -n 200
  local last p f
  last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$ROOT/$BUILD_DIR/slt-$name.log" | tail -1)
  if [[ -z "$last" ]]; then
    # Killed (suite timeout) or crashed: count the files that finished, plus one failure.
    tail -n 20 "$ROOT/$BUILD_DIR/slt-$name.log"
    p=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed, ' "$ROOT/$BUILD_DIR/slt-$name.log" | awk '{p += $2} END {print p + 0}')
    f=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed, ' "$ROOT/$BUILD_DIR/slt-$name.log" | awk '{f += $4} END {print f + 0}')
    add "$name" "$p" $((f + 1)); return
  fi
  p=${last%% passed*}; f=${last#*, }; f=${f%% failed}
  echo "$name: $last  (full log: $BUILD_DIR/slt-$name.log)"
  add "$name" "$p" "$f"
}

run_e2e() {
  echo "=== end-to-end tests ==="
  local out
  out=$(bash test/e2e/run-all.sh 2>&1)
  echo "$out"
  local last p f
  last=$(echo "$out" | grep -E '^e2e: [0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [[ -z "$last" ]]; then add e2e 0 1; return; fi
  last=${last#e2e: }; p=${last%% passed*}; f=${last#*, }; f=${f%% failed}
  add e2e "$p" "$f"
}

# run_corpus materialize|sqlite: scripts/run-slt-corpora.sh; one pass or one failure.
run_corpus() {
  echo "=== fetched sqllogictest suite: $1 ==="
  local out rc
  out=$(scripts/run-slt-corpora.sh "$1" 2>&1); rc=$?
  echo "$out"
  if ((rc == 3)); then add "$1-skipped" 0 1
  elif ((rc == 0)); then add "$1" 1 0
  else add "$1" 0 1; fi
}

# Every fuzz driver (every parser of outside bytes) for 10^6 mutations after its seed corpus
# (make test runs 20,000-200,000). FUZZ_BUILD_DIR (default BUILD_DIR) picks the build: after
# `make fuzz-asan`, FUZZ_BUILD_DIR=build/asan runs them under ASan/UBSan (-O1); a sanitizer
# report fails the driver and leaves its input in $FUZZ_CRASH_DIR (default .).
run_fuzz_slow() {
  local dir="${FUZZ_BUILD_DIR:-$BUILD_DIR}" f
  export ASAN_OPTIONS="${ASAN_OPTIONS:-handle_abort=1:detect_leaks=1}"
  echo "=== fuzz drivers, 10^6 mutations each ($dir) ==="
  for f in "sql/sql_fuzz_driver src/sql/fuzz_corpus" \
           "pgwire/pgwire_fuzz_driver src/pgwire/fuzz_corpus" "pgwire/pgwire_copy_fuzz_driver src/pgwire/fuzz_corpus_copy" \
           "kafka/kafka_fuzz_driver src/kafka/fuzz_corpus" "server/http_api_fuzz_driver src/server/fuzz_corpus_http" \
           "capture/capture_postgres_fuzz_driver src/capture/postgres/fuzz_corpus" \
           "capture/mysql/capture_mysql_fuzz_driver src/capture/mysql/fuzz_corpus" \
           "capture/sqlserver/capture_sqlserver_fuzz_driver src/capture/sqlserver/fuzz_corpus" \
           "capture/kafka/capture_kafka_fuzz_driver src/capture/kafka/fuzz_corpus"; do
    set -- $f
    if "$dir/src/$1" "$2" --iterations "${FUZZ_ITERATIONS:-1000000}" --seed "${FUZZ_SEED:-2}"; then add "fuzz-slow:${1##*/}" 1 0
    else echo "fuzz-slow: $1 failed"; add "fuzz-slow:${1##*/}" 0 1; fi
  done
  # Deeply nested and very long statements (scripts/sql-fuzz-deep.py), once each.
  local deep
  deep=$(mktemp -d)
  if python3 scripts/sql-fuzz-deep.py "$deep" >/dev/null && "$dir/src/sql/sql_fuzz_driver" "$deep" --iterations 0; then
    add "fuzz-slow:sql-deep" 1 0
  else echo "fuzz-slow: deep SQL statements failed"; add "fuzz-slow:sql-deep" 0 1; fi
  rm -rf "$deep"
}

for ph in "${phases[@]}"; do
  case "$ph" in
    unit) run_unit ;;
    slt) run_slt sql test/sql/*.slt
         run_slt corpus test/sql/sqllogictest/select{1,2,3,4,5}.test
         # The Materialize dialect of the runner (its formatting rules, checked on PostgreSQL
         # by `make test-pg`).
         # lists.slt, named_lists.slt, unsigned_int.slt and mz_timestamp.slt are Materialize's list, unsigned
         # integer and mz_timestamp types,
         # which PostgreSQL does not have; mzonly_*.slt are Materialize's conventions where
         # they differ from PostgreSQL's (freshet serve --sql-dialect materialize).
         mz_files=()
         for f in test/sql/materialize_dialect/*.slt; do
           [[ "${E2E_TARGET:-freshet}" == postgres && ( "$f" == */lists.slt || "$f" == */named_lists.slt || "$f" == */unsigned_int.slt || "$f" == */mz_timestamp.slt || "$f" == */mzonly_* ) ]] || mz_files+=("$f")
         done
         # On a server that follows Materialize's conventions (freshet serve --sql-dialect).
         FRESHET_EXTRA_ARGS="${FRESHET_EXTRA_ARGS:-} --sql-dialect materialize" run_slt mzdialect --dialect materialize "${mz_files[@]}" ;;
    e2e) run_e2e ;;
    slow) # SQLite's evidence files: PostgreSQL 15 itself passes only 275 of 324 (SQLite-only
          # behaviour), so this phase passes when Freshet does at least as well.
          before_p=$total_pass; before_f=$total_fail
          run_slt evidence test/sql/sqllogictest/evidence/*.test
          got=$((total_pass - before_p)); total_pass=$before_p; total_fail=$before_f
          if ((got >= ${EVIDENCE_BASELINE:-275})); then add evidence-vs-pg 1 0
          else echo "evidence: $got passed < PostgreSQL's ${EVIDENCE_BASELINE:-275}"; add evidence-vs-pg 0 1; fi
          # Materialize's sqllogictest files and the SQLite random/index sample, fetched at
          # pinned commits (scripts/fetch-slt-corpora.sh; test/README.md has the tables).
          # Not fetched = a failure that says so, never a silent pass.
          scripts/fetch-slt-corpora.sh >/dev/null 2>&1
          run_corpus materialize
          run_corpus sqlite
          if bash test/e2e/differential/slow.sh; then add differential-slow 1 0; else add differential-slow 0 1; fi
          if bash test/e2e/cdc/crash_slow.sh; then add cdc-crash-slow 1 0; else add cdc-crash-slow 0 1; fi
          # Issue 9: 1,000 over-budget cross joins of two 100,000-row series leave RSS flat.
          if LIMITS_ATTEMPTS=1000 bash test/e2e/query_limits_test.sh; then add query-limits-1000 1 0; else add query-limits-1000 0 1; fi
          run_fuzz_slow ;;
    fuzz-slow) run_fuzz_slow ;;
    *) echo "unknown phase $ph"; exit 2 ;;
  esac
done

echo "=== summary ==="
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
