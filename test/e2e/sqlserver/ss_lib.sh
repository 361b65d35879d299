# Helpers for the SQL Server source's e2e tests: the TDS emulator
# (test/sqlserver_emulator/README.md) and its control port. Source after lib.sh.
#
#   ss_start DIR     starts the emulator with its journal in DIR (a restart with the same DIR
#                    keeps the database); exports SS_PORT, SS_CTL_PORT, SS_PID
#   ss_ctl CMD       runs one control command, prints the reply (without the final OK);
#                    returns 1 on ERR (printed to stdout)
#   ss_kill          kill -9 of the emulator;   ss_stop: plain kill
#   ss_setup_sales   the seed's sales table with CDC enabled, a login for Freshet

: "${SS_EMULATOR_BIN:=$FRESHET_ROOT/build/release/test/sqlserver_emulator/sqlserver_emulator}"

ss_start() {
  local dir=$1 i attempt
  SS_DIR=$dir
  for attempt in 1 2 3; do
    [[ -n "${SS_PORT:-}" ]] || SS_PORT=$(free_port)
    # $(...) subshells may draw the same $RANDOM: make sure the two ports differ.
    while [[ -z "${SS_CTL_PORT:-}" || "$SS_CTL_PORT" == "$SS_PORT" ]]; do : "$RANDOM"; SS_CTL_PORT=$(free_port); done
    "$SS_EMULATOR_BIN" --port "$SS_PORT" --control-port "$SS_CTL_PORT" --state "$dir/journal" --database shop \
      >>"$dir/emulator.log" 2>&1 &
    SS_PID=$!
    export SS_PORT SS_CTL_PORT SS_PID SS_DIR
    echo "$SS_PID" >>"$dir/pids"
    for i in $(seq 1 600); do  # up to 30 s: a restart replays the journal first
      (exec 3<>"/dev/tcp/127.0.0.1/$SS_CTL_PORT") 2>/dev/null && return 0
      kill -0 "$SS_PID" 2>/dev/null || break
      sleep 0.05
    done
    # A port taken between choosing and binding it (only on a first start): choose again.
    if ! kill -0 "$SS_PID" 2>/dev/null && tail -1 "$dir/emulator.log" | grep -q "Address already in use" && [[ ! -s "$dir/journal" ]]; then
      SS_PORT= SS_CTL_PORT=
      continue
    fi
    break
  done
  echo "ss_start: the emulator did not come up:" >&2
  tail -5 "$dir/emulator.log" >&2
  return 1
}

# ss_kill_all DIR: kill -9 every emulator started with DIR (for EXIT traps).
ss_kill_all() {
  local p
  [[ -f "$1/pids" ]] || return 0
  while read -r p; do { kill -9 "$p"; wait "$p"; } 2>/dev/null; done <"$1/pids"
}

ss_ctl() {
  local fd line rc=0
  exec {fd}<>"/dev/tcp/127.0.0.1/$SS_CTL_PORT" || return 1
  printf '%s\n' "$1" >&"$fd"
  while IFS= read -r line <&"$fd"; do
    if [[ "$line" == "OK" ]]; then break; fi
    if [[ "$line" == ERR* ]]; then echo "$line"; rc=1; break; fi
    printf '%s\n' "$line"
  done
  exec {fd}>&-
  return $rc
}

ss_kill() { [[ -n "${SS_PID:-}" ]] && { kill -9 "$SS_PID"; wait "$SS_PID"; } 2>/dev/null; SS_PID=; }
ss_stop() { [[ -n "${SS_PID:-}" ]] && { kill "$SS_PID" 2>/dev/null; wait "$SS_PID" 2>/dev/null; }; SS_PID=; }

ss_setup_sales() {
  ss_ctl "CREATE TABLE dbo.sales (sale_id int NOT NULL PRIMARY KEY, product_id int, customer_id int, sale_date datetime2(3), quantity int, unit_price decimal(10,2), total_price decimal(10,2))" &&
  ss_ctl "CREATE LOGIN freshet Fr3shet_pw db_owner" &&
  ss_ctl "EXEC sys.sp_cdc_enable_db" &&
  ss_ctl "EXEC sys.sp_cdc_enable_table dbo.sales"
}
