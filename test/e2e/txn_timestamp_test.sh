#!/usr/bin/env bash
# A transaction block reads at one timestamp: two sessions, node-postgres (txn_timestamp.js).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=txn_timestamp
[[ -d "$E2E_LIB_DIR/node_modules/pg" ]] || { e2e_fail $NAME "node_modules missing (scripts/install-deps.sh)"; exit 1; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
(cd "$E2E_LIB_DIR" && timeout 120 node txn_timestamp.js)
rc=$?
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "node checks failed"; exit 1; fi
