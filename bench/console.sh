#!/usr/bin/env bash
# The web console's cost, with `freshet demo` running (the SALES workload, default rate):
#  1. page load on loopback: RUNS (10) cold loads of /console/ in headless Chromium, median
#     and max of the load event and of the first data shown (the overview lists the source);
#     goal: < 1 s;
#  2. the server's CPU over WINDOW_S (60) seconds with the console closed and as long with the
#     overview open (it polls the introspection relations every second), alternating every
#     SEGMENT_S (10) seconds so that drift in the demo's own load falls on both alike; from
#     utime+stime in /proc/<pid>/stat; printed side by side, with the difference in % of one
#     core; goal: the console's share < 2%.
# Usage: bench/console.sh   (env: FRESHET_BIN, RUNS=10, WINDOW_S=60, SEGMENT_S=10). Needs chromium and
# playwright-core (scripts/install-deps.sh). Everything runs on loopback; nothing else is touched.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/test/e2e/lib.sh"
RUNS=${RUNS:-10}
WINDOW_S=${WINDOW_S:-60}
SEGMENT_S=${SEGMENT_S:-10}
die() { echo "console bench: $*" >&2; exit 1; }
command -v chromium >/dev/null || die "chromium not installed (scripts/install-deps.sh)"

FRESHET_COMMAND=demo start_freshet || die "freshet demo did not start"
URL="http://127.0.0.1:$FRESHET_HTTP_PORT/console/"
curl -sf -o /dev/null "$URL" || die "GET $URL failed (console not built?)"
sleep 3  # the source and view are created after the listener is up

echo "page load, $RUNS cold loads of $URL:"
mapfile -t loads < <(node "$ROOT/bench/console_page.js" load "$URL" "$RUNS") || die "page loads failed"
((${#loads[@]} == RUNS)) || die "page loads failed"
stats() {  # column -> "median X ms, max Y ms"
  printf '%s\n' "${loads[@]}" | awk -v c="$1" '{ print $c }' | sort -n |
    awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median %d ms, max %d ms", m, v[NR] }'
}
echo "  load event:       $(stats 1)"
echo "  first data shown: $(stats 2)"

echo "server CPU, ${WINDOW_S} s with the console closed and ${WINDOW_S} s open, alternating every ${SEGMENT_S} s (demo running; % of one core):"
read -r closed open < <(CLK_TCK=$(getconf CLK_TCK) node "$ROOT/bench/console_page.js" cpu "$URL" "$FRESHET_PID" "$WINDOW_S" "$SEGMENT_S") ||
  die "CPU measurement failed"
printf '  %-16s %-16s %s\n' "console closed" "console open" "console's share"
printf '  %-16s %-16s %s\n' "$closed%" "$open%" "$(awk -v a="$closed" -v b="$open" 'BEGIN { printf "%+.2f%%", b - a }')"
freshet_alive || die "freshet exited"
stop_freshet
