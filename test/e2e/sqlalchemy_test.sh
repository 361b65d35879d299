#!/usr/bin/env bash
# SQLAlchemy (Debian python3-sqlalchemy, psycopg2 dialect): reflection of tables, columns, keys and indexes, autoload, Core and ORM round trips.
# The checks are in drivers/sqlalchemy_checks.py; see drivers/README.md for what is skipped on Freshet.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=sqlalchemy
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
(cd "$E2E_LIB_DIR/drivers" && E2E_TARGET=$E2E_TARGET timeout 120 /usr/bin/python3 sqlalchemy_checks.py)
rc=$?
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "sqlalchemy checks failed"; exit 1; fi
