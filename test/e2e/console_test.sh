#!/usr/bin/env bash
# The web console in a real browser (Debian's chromium, headless, driven by npm playwright-core;
# the checks are in console/console_checks.js):
#   * against `freshet demo` (the seed's SALES workload and sales_anomalies view), which prints
#     the console's URL and the addresses in use: the overview
#     lists the source, table and view; a chart's data changes within 2 s; the source's snapshot
#     progress bar reaches 100%; the index page shows freshness and the EXPLAIN graph; a kcat
#     consumer group shows with its lag; the SQL shell shows a query's rows and an error's
#     SQLSTATE; a SUBSCRIBE shows a row inserted and one deleted from psql within 1 s each;
#   * against a second server with a password: the console asks for it, a wrong one is refused
#     (and /api/sql answers 401), the right one opens it.
# Screenshots go to a temp directory printed at the start (kept; E2E_CONSOLE_OUT picks one).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=console
if [[ "$E2E_TARGET" == postgres ]]; then e2e_pass "$NAME (skipped: Freshet's web console)"; exit 0; fi
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
command -v kcat >/dev/null || { e2e_fail $NAME "kcat not installed (scripts/install-deps.sh)"; exit 1; }
[[ -x "$CHROMIUM" ]] || { e2e_fail $NAME "chromium not installed (scripts/install-deps.sh)"; exit 1; }
[[ -d "$E2E_LIB_DIR/node_modules/playwright-core" ]] || { e2e_fail $NAME "playwright-core not installed (scripts/install-deps.sh)"; exit 1; }
OUT=${E2E_CONSOLE_OUT:-$(mktemp -d /tmp/freshet-console-e2e.XXXXXX)}
mkdir -p "$OUT"
echo "console: screenshots in $OUT (kept when a check fails or E2E_CONSOLE_OUT names the directory)"
export OUT CHROMIUM

FRESHET_COMMAND=demo FRESHET_EXTRA_ARGS="--rate 200" start_freshet || { e2e_fail $NAME "freshet demo did not start"; exit 1; }
curl -sf -o /dev/null "http://127.0.0.1:$FRESHET_HTTP_PORT/console/" || { e2e_fail $NAME "GET /console/ failed (console not built?)"; exit 1; }
# The demo prints the console's URL and the addresses in use (not the default ports).
for want in "Open the web console:  http://127.0.0.1:$FRESHET_HTTP_PORT/console/" \
            "kcat -b 127.0.0.1:$FRESHET_KAFKA_PORT -t freshet.public.sales" \
            "Addresses: PostgreSQL 127.0.0.1:$FRESHET_PORT, Kafka 127.0.0.1:$FRESHET_KAFKA_PORT, HTTP http://127.0.0.1:$FRESHET_HTTP_PORT"; do
  for _ in $(seq 1 100); do grep -qF "$want" "$FRESHET_LOG" && break; sleep 0.1; done
  grep -qF "$want" "$FRESHET_LOG" || { e2e_fail $NAME "the demo did not print: $want"; exit 1; }
done
KAFKA="127.0.0.1:$FRESHET_KAFKA_PORT" BASE="http://127.0.0.1:$FRESHET_HTTP_PORT" MODE=demo timeout 120 node "$E2E_LIB_DIR/console/console_checks.js"
rc=$?
freshet_alive || { echo "freshet demo exited"; rc=1; }
stop_freshet
((rc == 0)) || { e2e_fail $NAME "console checks against the demo failed"; exit 1; }

export PGPASSWORD="c0nsole-$RANDOM$RANDOM"
FRESHET_EXTRA_ARGS="--user-password freshet:$PGPASSWORD" start_freshet || { e2e_fail $NAME "freshet with a password did not start"; exit 1; }
BASE="http://127.0.0.1:$FRESHET_HTTP_PORT" MODE=auth timeout 60 node "$E2E_LIB_DIR/console/console_checks.js"
rc=$?
freshet_alive || { echo "freshet exited"; rc=1; }
stop_freshet
((rc == 0)) || { e2e_fail $NAME "console checks with a password failed"; exit 1; }
# Every check passed: the screenshots go, unless the caller asked for them.
[[ -n "${E2E_CONSOLE_OUT:-}" ]] || rm -rf "$OUT"
e2e_pass $NAME
