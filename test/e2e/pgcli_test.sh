#!/usr/bin/env bash
# pgcli (Debian pgcli, on psycopg 3) under tmux, as a user runs it: start, the catalog queries it
# runs to build its completions (no errors in its log), completion of a table name, \dt, \d t.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=pgcli
command -v pgcli >/dev/null || { e2e_fail $NAME "pgcli missing (scripts/install-deps.sh)"; exit 1; }
command -v tmux >/dev/null || { e2e_fail $NAME "tmux missing (scripts/install-deps.sh)"; exit 1; }
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
WORK=$(mktemp -d /tmp/freshet-pgcli.XXXXXX)
SOCK="$WORK/tmux.sock"
SESSION=pgcli$$
cleanup_pgcli() { tmux -S "$SOCK" kill-server 2>/dev/null; rm -rf "$WORK"; }
trap 'cleanup_pgcli; _e2e_cleanup' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

psql -X -q -v ON_ERROR_STOP=1 <<'SQL' || bad "setup" "psql failed"
CREATE TABLE pgcli_orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10,2));
CREATE VIEW pgcli_big AS SELECT * FROM pgcli_orders WHERE amount > 100;
CREATE INDEX pgcli_orders_customer ON pgcli_orders (customer);
SQL

mkdir -p "$WORK/config/pgcli"
# A fixed, plain configuration: no pager, no colours to parse, log in the work dir.
cat > "$WORK/config/pgcli/config" <<CONF
[main]
log_file = $WORK/pgcli.log
log_level = INFO
history_file = $WORK/history
pager = cat
enable_pager = False
keyring = False
multi_line = False
less_chatty = True
smart_completion = True
CONF

pane() { tmux -S "$SOCK" capture-pane -p -t "$SESSION" -S -200; }
shown() { pane | grep -v '^ *$' | grep -v 'Smart Completion' | tail -"${1:-10}" | tr '\n' '|'; }
# wait_for TEXT SECONDS: until the pane shows TEXT.
wait_for() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    pane | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  return 1
}
send() { tmux -S "$SOCK" send-keys -t "$SESSION" "$@"; }
# clear: an empty screen and no scrollback, so that wait_for sees only what follows.
clear() { send C-l; sleep 0.3; tmux -S "$SOCK" clear-history -t "$SESSION"; }

tmux -S "$SOCK" new-session -d -s "$SESSION" -x 200 -y 50 \
  "env XDG_CONFIG_HOME='$WORK/config' HOME='$WORK' PAGER=cat TERM=xterm pgcli -h $PGHOST -p $PGPORT -U $PGUSER $PGDATABASE; sleep 30"
if wait_for "$PGDATABASE>" 30; then ok "start"; else bad "start" "no prompt: $(shown)"; fi
sleep 2  # completions are refreshed in a background thread after connecting

send '\dt' Enter
if wait_for "pgcli_orders" 10 && ! pane | grep -q "^ERROR\|error"; then ok "\\dt"; else bad "\\dt" "$(shown 30)"; fi
clear
send '\d pgcli_orders' Enter
if wait_for "customer" 10 && pane | grep -q "numeric(10,2)" && pane | grep -q "pgcli_orders_pkey"; then ok "\\d t"; else bad "\\d t" "$(shown 20)"; fi
clear
send 'SELECT * FROM pgcli_o' Tab
if wait_for "pgcli_orders" 10; then ok "completion of a table name"; else bad "completion of a table name" "$(shown)"; fi
send C-c
send 'SELECT count(*) AS n FROM pgcli_big' Enter
if wait_for "SELECT 1" 10; then ok "query"; else bad "query" "$(shown)"; fi

# pgcli logs (rather than shows) failures of its completion queries.
if [[ -f "$WORK/pgcli.log" ]] && grep -q "ERROR\|Traceback" "$WORK/pgcli.log"; then
  bad "completion refresh without errors" "$(grep -m3 -A3 'ERROR\|Traceback' "$WORK/pgcli.log" | tr '\n' '|' | cut -c1-600)"
else
  ok "completion refresh without errors"
fi
send C-d
echo "pgcli: $passed passed, $failed failed, 0 skipped"
freshet_alive || { echo "FAIL freshet exited"; failed=$((failed + 1)); }
cleanup_pgcli
stop_freshet
if ((failed == 0)); then e2e_pass $NAME; else e2e_fail $NAME "pgcli checks failed"; exit 1; fi
