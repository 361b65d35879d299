#!/usr/bin/env bash
# psycopg2 (Debian python3-psycopg2): parameters, executemany, execute_values, errors, transactions.
# The checks are in drivers/psycopg2_checks.py; see drivers/README.md for what is skipped on Freshet.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=psycopg2
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
(cd "$E2E_LIB_DIR/drivers" && E2E_TARGET=$E2E_TARGET timeout 120 /usr/bin/python3 psycopg2_checks.py)
rc=$?
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "psycopg2 checks failed"; exit 1; fi
