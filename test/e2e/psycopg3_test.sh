#!/usr/bin/env bash
# psycopg 3 (Debian python3-psycopg): types in text and binary, prepared statements, errors, TypeInfo, transactions, SUBSCRIBE streaming.
# The checks are in drivers/psycopg3_checks.py; see drivers/README.md for what is skipped on Freshet.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=psycopg3
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
(cd "$E2E_LIB_DIR/drivers" && E2E_TARGET=$E2E_TARGET timeout 120 /usr/bin/python3 psycopg3_checks.py)
rc=$?
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "psycopg3 checks failed"; exit 1; fi
