#!/usr/bin/env bash
# npm `postgres` (postgres.js): tagged templates, type round trips, errors, .cursor() (also on a
# failing query), transactions, cancel, SUBSCRIBE. Checks in drivers/postgres_js.js.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=postgres_js
[[ -d "$E2E_LIB_DIR/node_modules/postgres" ]] || { e2e_fail $NAME "node_modules missing (scripts/install-deps.sh)"; exit 1; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
(cd "$E2E_LIB_DIR" && E2E_TARGET=$E2E_TARGET timeout 120 node drivers/postgres_js.js)
rc=$?
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "postgres.js checks failed"; exit 1; fi
