#!/usr/bin/env bash
# PQexecParams text/binary, prepared statements, SQLSTATE and position.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=libpq_protocol
BIN="${LIBPQ_E2E_BIN:-$FRESHET_ROOT/${BUILD_DIR:-build/release}/libpq_e2e}"
[[ -x "$BIN" ]] || { e2e_fail $NAME "$BIN not built"; exit 1; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
"$BIN" --host 127.0.0.1 --port "$PGPORT" --user freshet --db freshet protocol
rc=$?
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "libpq_e2e protocol failed"; exit 1; fi
