#!/usr/bin/env bash
# pgJDBC (Debian libpostgresql-jdbc-java, Java 17): DatabaseMetaData as DBeaver calls it on
# connect, prepared statements of the common types, setDate, batches, setFetchSize, errors.
# The checks are in drivers/JdbcChecks.java; see drivers/README.md for what is skipped on Freshet.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=jdbc
JAR=${PGJDBC_JAR:-/usr/share/java/postgresql.jar}
[[ -f "$JAR" ]] || { e2e_fail $NAME "$JAR missing (scripts/install-deps.sh)"; exit 1; }
CLASSES=$(mktemp -d /tmp/freshet-jdbc.XXXXXX)
javac -d "$CLASSES" "$E2E_LIB_DIR/drivers/JdbcChecks.java" || { rm -rf "$CLASSES"; e2e_fail $NAME "javac failed"; exit 1; }
start_freshet || { rm -rf "$CLASSES"; e2e_fail $NAME "server did not start"; exit 1; }
E2E_TARGET=$E2E_TARGET timeout 180 java -cp "$CLASSES:$JAR" JdbcChecks
rc=$?
rm -rf "$CLASSES"
freshet_alive || { echo "FAIL freshet exited"; rc=1; }
stop_freshet
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "jdbc checks failed"; exit 1; fi
