#!/usr/bin/env bash
# Differential test: Freshet's indexed and materialized views vs PostgreSQL 15 on random data
# and random write batches (see differential.js). Short and seeded here (make test);
# test/e2e/differential/slow.sh runs thousands of batches (make test-slow).
#
#   DIFF_SEED=7 DIFF_BATCHES=200 bash test/e2e/differential/differential_test.sh
#   DIFF_WORKERS=4 ...   every dataflow sharded 4 ways (default 2: exchanges always exercised)
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../lib.sh"
NAME=${DIFF_NAME:-differential}
: "${DIFF_SEED:=20261124}" "${DIFF_BATCHES:=30}" "${DIFF_OPS:=6}" "${DIFF_TIMEOUT_S:=240}"
if [[ "$E2E_TARGET" == postgres ]]; then
  echo "PASS $NAME (skipped: compares Freshet with PostgreSQL, nothing to validate against itself)"
  exit 0
fi
[[ -d "$E2E_LIB_DIR/node_modules/pg" ]] || { e2e_fail "$NAME" "node_modules missing (scripts/install-deps.sh)"; exit 1; }
: "${DIFF_WORKERS:=2}"
FRESHET_EXTRA_ARGS="${FRESHET_EXTRA_ARGS:-} --workers $DIFF_WORKERS"
# Views over indexed views read the index's arrangement (off by default; src/server/README.md):
# the shapes over_indexed and over_indexed3 compare that path with PostgreSQL.
export FRESHET_SHARED_ARRANGEMENTS="${FRESHET_SHARED_ARRANGEMENTS:-on}"
echo "differential: --workers $DIFF_WORKERS"
start_freshet || { e2e_fail "$NAME" "freshet did not start"; exit 1; }
start_postgres || { e2e_fail "$NAME" "PostgreSQL did not start"; exit 1; }
export PG_REF_PORT
(cd "$E2E_LIB_DIR" && timeout "$DIFF_TIMEOUT_S" node "$HERE/differential.js" \
   --seed "$DIFF_SEED" --batches "$DIFF_BATCHES" --ops "$DIFF_OPS" ${DIFF_SHAPES:+--shapes "$DIFF_SHAPES"})
rc=$?
((rc == 124)) && echo "differential: timed out after $DIFF_TIMEOUT_S s"
freshet_alive || { echo "freshet exited during the test"; rc=1; }
if ((rc == 0)); then e2e_pass "$NAME"; else e2e_fail "$NAME" "seed $DIFF_SEED: views differ from PostgreSQL (see above)"; exit 1; fi
