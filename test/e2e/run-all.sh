#!/usr/bin/env bash
# Runs every test/e2e/*_test.sh; each prints `PASS name` or `FAIL name: why`.
# E2E_TARGET=postgres runs them against a throwaway PostgreSQL 15 instead of Freshet.
set -uo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
pass=0 fail=0
for t in "$DIR"/*_test.sh "$DIR"/differential/*_test.sh; do
  name=$(basename "$t" _test.sh)
  echo "--- $name"
  if timeout "${E2E_TEST_TIMEOUT_S:-300}" bash "$t"; then pass=$((pass + 1)); else
    rc=$?; fail=$((fail + 1))
    ((rc == 124)) && echo "FAIL $name: timed out"
  fi
done
echo "e2e: $pass passed, $fail failed"
((fail == 0))
