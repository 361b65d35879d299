#!/usr/bin/env bash
# Temporal filter acceptance (temporal_anomalies.js): the seed's sales_anomalies view with rows
# expiring 1.5 s apart; polls, a point lookup and a SUBSCRIBE cursor against a model of the view.
# Run by test/e2e/differential/temporal_anomalies_test.sh (so run-all.sh / make test count it).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=temporal_anomalies
if [[ "$E2E_TARGET" == postgres ]]; then
  echo "PASS $NAME (skipped: mz_now() and SUBSCRIBE are Freshet's, PostgreSQL has neither)"
  exit 0
fi
[[ -d "$E2E_LIB_DIR/node_modules/pg" ]] || { e2e_fail $NAME "node_modules missing (scripts/install-deps.sh)"; exit 1; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
(cd "$E2E_LIB_DIR" && timeout 120 node temporal_anomalies.js)
rc=$?
freshet_alive || { echo "freshet exited during the test"; rc=1; }
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "temporal filter checks failed (see above)"; exit 1; fi
