#!/usr/bin/env bash
# Writes do not wait for dataflows, and a lagging dataflow delays only the reads of it
# (src/server/README.md, "Threads and locking"): with a deliberately slow indexed view (a join
# whose condition is an expression, so every change is compared with every row: inserting
# 3,000 rows into a table of 1,000 compares 15 M pairs), an INSERT
# into its input is acknowledged long before the view has caught up, mz_dataflow_frontiers
# shows the view behind, writes to and reads of other tables stay fast meanwhile, and a read
# of the view waits and then sees every acknowledged write (strict serializable).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=dataflow_isolation
if [[ "$E2E_TARGET" == postgres ]]; then echo "PASS $NAME (skipped: dataflows are Freshet's)"; exit 0; fi
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ms_of() {  # ms_of SQL...: runs the statements in one session, prints the wall time in ms
  local t0 args=() s
  for s in "$@"; do args+=(-c "$s"); done
  t0=$(date +%s%N)
  psql -X -q -v ON_ERROR_STOP=1 "${args[@]}" >/dev/null 2>&1 || { echo -1; return; }
  echo $((($(date +%s%N) - t0) / 1000000))
}
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE h (x int)" -c "INSERT INTO h SELECT x FROM generate_series(1, 1000) x" \
  -c "CREATE VIEW slow AS SELECT count(*) AS n FROM h a, h b WHERE a.x + b.x = 1500" -c "CREATE INDEX ON slow (n)" \
  -c "CREATE TABLE u (x int PRIMARY KEY)" -c "CREATE VIEW fast AS SELECT count(*) AS n FROM u" \
  -c "CREATE INDEX ON fast (n)" >/dev/null || { e2e_fail $NAME "setup failed"; exit 1; }

w=$(ms_of "INSERT INTO h SELECT x FROM generate_series(1001, 4000) x")
lagging=$(psql -X -qAt -c "SELECT pending_steps > 0 OR lag_ms > 0 FROM mz_dataflow_frontiers WHERE object_name = 'slow'")
u=$(ms_of "INSERT INTO u VALUES (1)")
r=$(ms_of "SELECT count(*) FROM u" "SELECT count(*) FROM h")
# Each dataflow advances on its own: the index on `fast` (over u) has processed the insert into
# u while `slow` is still working on the earlier insert into h.
t0=$(date +%s%N)
fast_n=$(psql -X -qAt -c "SELECT n FROM fast")
f=$((($(date +%s%N) - t0) / 1000000))
# An index made now, while `slow` has not processed the insert into u: the new dataflow's
# snapshot holds that row, and it must not get the row's step again (counted twice before).
fast2_n=$(psql -X -qAt -c "CREATE VIEW fast2 AS SELECT count(*) AS n FROM u" -c "CREATE INDEX ON fast2 (n)" -c "SELECT n FROM fast2")
# A serializable read of the lagging view does not wait: it answers the view as it is (before
# the insert: pairs of 1..1000 with a + b = 1500, a in 500..1000), a consistent past state.
t0=$(date +%s%N)
sn=$(psql -X -qAt -c "SET transaction_isolation = 'serializable'" -c "SELECT n FROM slow")
s_ms=$((($(date +%s%N) - t0) / 1000000))
iso=$(psql -X -qAt -c "SHOW transaction_isolation")
t0=$(date +%s%N)
n=$(psql -X -qAt -c "SELECT n FROM slow")
v=$((($(date +%s%N) - t0) / 1000000))
echo "     insert into the view's input: ${w} ms; other insert: ${u} ms; other reads: ${r} ms; read of another indexed view: ${f} ms; read of the view: ${v} ms (view behind: $lagging)"
echo "     serializable read of the lagging view: ${s_ms} ms, n = ${sn}"
# Shown as PostgreSQL's name (drivers such as SQLAlchemy accept only those); reads are strict
# serializable unless the session set 'serializable' itself.
[[ "$iso" == "serializable" ]] || fail "the default transaction_isolation is '$iso', not serializable"
[[ "$sn" == 501 ]] || fail "the serializable read of the lagging view answered '$sn', not its state before the insert (501)"
((s_ms < 1000 && s_ms * 4 < v)) || fail "the serializable read took ${s_ms} ms: it waited for the view (${v} ms)"
[[ "$fast_n" == 1 ]] || fail "the other indexed view answered n = $fast_n, not 1"
[[ "$fast2_n" == 1 ]] || fail "a view indexed while another lagged answered n = $fast2_n, not 1 (its snapshot's rows came again)"
((f < 1000 && f * 4 < v)) || fail "the read of the other indexed view took ${f} ms while the slow view lagged (${v} ms to catch up): it waited for the slow one"
# Pairs (a, b) of 1..4000 with a + b = 1500: a in 1..1499.
[[ "$n" == 1499 ]] || fail "the view answered n = $n after the writes, not 1499"
((w >= 0 && u >= 0 && r >= 0)) || fail "a statement failed"
[[ "$lagging" == t ]] || fail "mz_dataflow_frontiers did not show the view behind right after the write (the write waited for it?)"
((v > 4 * w)) || fail "the view caught up in ${v} ms, not much longer than the write (${w} ms): the write waited for it"
((u < 1000 && r < 1000)) || fail "other tables were slow while the view lagged: insert ${u} ms, reads ${r} ms"
caught=$(psql -X -qAt -c "SELECT pending_steps FROM mz_dataflow_frontiers WHERE object_name = 'slow'")
[[ "$caught" == 0 ]] || fail "after a read of it, the view still has $caught steps pending"

# CREATE INDEX hydrates without holding the locks: while it runs, writes (also to the view's
# input) and reads go on, mz_dataflow_frontiers shows it not hydrated, and the index then
# reflects every write made meanwhile.
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE g (x int)" -c "INSERT INTO g SELECT x FROM generate_series(1, 3600) x" \
  -c "CREATE VIEW slow2 AS SELECT count(*) AS n, sum(a.x) AS s FROM g a, g b WHERE a.x + b.x = 5000" >/dev/null ||
  fail "setup of slow2 failed"
ci_log="$FRESHET_DATA_DIR/create_index.log"
t0=$(date +%s%N)
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE INDEX ON slow2 (n)" >"$ci_log" 2>&1 &
ci_pid=$!
sleep 0.3
hydrating=$(psql -X -qAt -c "SELECT hydrated FROM mz_dataflow_frontiers WHERE object_name = 'slow2'")
max_ms=0 writes=0
for i in $(seq 1 8); do
  kill -0 "$ci_pid" 2>/dev/null || break
  m=$(ms_of "INSERT INTO g VALUES ($((2400 + i))), ($((2600 - i)))" "DELETE FROM g WHERE x = $((1000 + i))" \
    "INSERT INTO u VALUES ($((100 + i)))" "SELECT count(*) FROM u")
  ((m < 0)) && fail "a write during CREATE INDEX failed"
  ((m > max_ms)) && max_ms=$m
  writes=$((writes + 1))
  sleep 0.2
done
wait "$ci_pid" || fail "CREATE INDEX failed: $(cat "$ci_log")"
ci_ms=$((($(date +%s%N) - t0) / 1000000))
echo "     CREATE INDEX took ${ci_ms} ms; ${writes} write rounds meanwhile, the slowest ${max_ms} ms; hydrated while running: ${hydrating}"
((writes > 0)) || fail "CREATE INDEX finished before any write could be made during it (${ci_ms} ms)"
[[ "$hydrating" == f ]] || fail "mz_dataflow_frontiers did not show slow2 hydrating: '$hydrating'"
((max_ms < 2000 && max_ms * 2 < ci_ms)) || fail "writes waited for CREATE INDEX: slowest ${max_ms} ms of ${ci_ms} ms"
plan=$(psql -X -qAt -c "EXPLAIN SELECT * FROM slow2" | head -1)
[[ "$plan" == Get* ]] || fail "slow2 is not read from its index: $plan"
got=$(psql -X -qAt -c "SELECT n || ':' || s FROM slow2")
want=$(psql -X -qAt -c "SELECT count(*) || ':' || sum(a.x) FROM g a, g b WHERE a.x + b.x = 5000")
[[ "$got" == "$want" ]] || fail "after CREATE INDEX the view has $got, the query over g gives $want (writes during hydration lost?)"
psql -X -q -c "INSERT INTO g VALUES (2450), (2550)" >/dev/null
got=$(psql -X -qAt -c "SELECT n || ':' || s FROM slow2")
want=$(psql -X -qAt -c "SELECT count(*) || ':' || sum(a.x) FROM g a, g b WHERE a.x + b.x = 5000")
[[ "$got" == "$want" ]] || fail "after one more write the view has $got, the query gives $want"

# CREATE MATERIALIZED VIEW hydrates without the locks too: writes and reads go on meanwhile, a
# read of the view being created computes its query, and its stored contents survive a restart.
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE k (x int)" -c "INSERT INTO k SELECT x FROM generate_series(1, 2500) x" \
  >/dev/null || fail "setup of k failed"
mv_log="$FRESHET_DATA_DIR/create_mv.log"
t0=$(date +%s%N)
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE MATERIALIZED VIEW slow3 AS SELECT count(*) AS n, sum(a.x) AS s FROM k a, k b WHERE a.x + b.x = 3000" \
  >"$mv_log" 2>&1 &
mv_pid=$!
sleep 0.3
max_ms=0 writes=0 during=""
for i in $(seq 1 6); do
  kill -0 "$mv_pid" 2>/dev/null || break
  m=$(ms_of "INSERT INTO k VALUES ($((2400 + i)))" "DELETE FROM k WHERE x = $((1000 + i))" "INSERT INTO u VALUES ($((200 + i)))")
  ((m < 0)) && fail "a write during CREATE MATERIALIZED VIEW failed"
  ((m > max_ms)) && max_ms=$m
  writes=$((writes + 1))
  sleep 0.2
done
if kill -0 "$mv_pid" 2>/dev/null; then
  during=$(psql -X -qAt -c "SELECT n || ':' || s FROM slow3")
  want_during=$(psql -X -qAt -c "SELECT count(*) || ':' || sum(a.x) FROM k a, k b WHERE a.x + b.x = 3000")
  [[ "$during" == "$want_during" ]] || fail "a read of slow3 while it was created gave '$during', the query '$want_during'"
fi
wait "$mv_pid" || fail "CREATE MATERIALIZED VIEW failed: $(cat "$mv_log")"
mv_ms=$((($(date +%s%N) - t0) / 1000000))
echo "     CREATE MATERIALIZED VIEW took ${mv_ms} ms; ${writes} write rounds meanwhile, the slowest ${max_ms} ms; read meanwhile: '${during}'"
((writes > 0)) || fail "CREATE MATERIALIZED VIEW finished before any write could be made during it (${mv_ms} ms)"
((max_ms < 2000 && max_ms * 2 < mv_ms)) || fail "writes waited for CREATE MATERIALIZED VIEW: slowest ${max_ms} ms of ${mv_ms} ms"
want=$(psql -X -qAt -c "SELECT count(*) || ':' || sum(a.x) FROM k a, k b WHERE a.x + b.x = 3000")
got=$(psql -X -qAt -c "SELECT n || ':' || s FROM slow3")
[[ "$got" == "$want" ]] || fail "after CREATE MATERIALIZED VIEW it has $got, the query over k gives $want (writes during hydration lost?)"

# A transaction block that creates a materialized view commits without hydrating it under the
# locks: COMMIT returns long before the view is hydrated, a write right after it is not held
# up, mz_hydration_statuses shows the view hydrating, reads compute it meanwhile, and it then
# holds the query's rows.
t0=$(date +%s%N)
psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" \
  -c "CREATE MATERIALIZED VIEW slow4 AS SELECT count(*) AS n, sum(a.x) AS s FROM k a, k b WHERE a.x + b.x = 3100" \
  -c "COMMIT" >/dev/null || fail "the block creating slow4 failed"
commit_ms=$((($(date +%s%N) - t0) / 1000000))
w_ms=$(ms_of "INSERT INTO u VALUES (300)")
hyd4=$(psql -X -qAt -c "SELECT count(*) FROM mz_hydration_statuses h JOIN mz_objects o ON o.id = h.object_id WHERE o.name = 'slow4' AND NOT h.hydrated")
want4=$(psql -X -qAt -c "SELECT count(*) || ':' || sum(a.x) FROM k a, k b WHERE a.x + b.x = 3100")
during4=$(psql -X -qAt -c "SELECT n || ':' || s FROM slow4")
[[ "$during4" == "$want4" ]] || fail "a read of slow4 while it hydrated gave '$during4', the query '$want4'"
hydrated_ms=-1
for _ in $(seq 1 600); do
  left=$(psql -X -qAt -c "SELECT count(*) FROM mz_hydration_statuses h JOIN mz_objects o ON o.id = h.object_id WHERE o.name = 'slow4' AND NOT h.hydrated")
  [[ "$left" == 0 ]] && { hydrated_ms=$((($(date +%s%N) - t0) / 1000000)); break; }
  sleep 0.2
done
echo "     block with CREATE MATERIALIZED VIEW: COMMIT took ${commit_ms} ms, a write after it ${w_ms} ms, hydrating then: ${hyd4}, hydrated after ${hydrated_ms} ms"
((hydrated_ms >= 0)) || fail "slow4 was not hydrated within 120 s of its COMMIT"
((w_ms >= 0 && w_ms < 2000)) || fail "a write after the block's COMMIT took ${w_ms} ms (waited for the hydration?)"
((commit_ms * 2 < mv_ms)) || fail "COMMIT of the block took ${commit_ms} ms, a CREATE MATERIALIZED VIEW of the same size ${mv_ms} ms (hydrated under the locks?)"
got4=$(psql -X -qAt -c "SELECT n || ':' || s FROM slow4")
[[ "$got4" == "$want4" ]] || fail "after its hydration slow4 has $got4, the query $want4"

freshet_alive || fail "freshet exited"
# And after a restart (it is hydrated again, its stored contents brought in line).
u_before=$(psql -X -qAt -c "SELECT count(*) FROM u")
kill -s TERM "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
"$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
  --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
FRESHET_PID=$!
if wait_ready "$FRESHET_PORT" 120 "$FRESHET_PID"; then
  # The server serves while its dataflows hydrate (slow takes seconds): progress is visible,
  # other tables answer at once, and reads of the views compute them meanwhile.
  t0=$(date +%s%N)
  hyd=$(psql -X -qAt -c "SELECT count(*) FROM mz_hydration_statuses WHERE NOT hydrated")
  rc=$(psql -X -qAt -c "SELECT count(*) FROM u")
  r_ms=$((($(date +%s%N) - t0) / 1000000))
  sn=$(psql -X -qAt -c "SELECT n FROM slow")
  echo "     after the restart: ${hyd} dataflow(s) not hydrated yet; a read of another table took ${r_ms} ms"
  ((hyd > 0)) || fail "right after the restart no dataflow shows as hydrating (hydrated before serving?)"
  [[ "$rc" == "$u_before" ]] || fail "u has '$rc' rows after the restart, not $u_before"
  ((r_ms < 2000)) || fail "reads of a table waited ${r_ms} ms for the restart's hydration"
  [[ "$sn" == 1499 ]] || fail "slow answered '$sn' during or after the restart's hydration, not 1499"
  got=$(psql -X -qAt -c "SELECT n || ':' || s FROM slow3")
  [[ "$got" == "$want" ]] || fail "after a restart slow3 has $got, not $want"
else
  fail "the restart did not come up"
fi
# SIGTERM while the restart's hydration runs stops the server within a few seconds.
kill -s TERM "$FRESHET_PID"; wait "$FRESHET_PID" 2>/dev/null
"$FRESHET_BIN" serve --data-dir "$FRESHET_DATA_DIR/data" --pg-listen "127.0.0.1:$FRESHET_PORT" \
  --kafka-listen "127.0.0.1:$FRESHET_KAFKA_PORT" --http-listen "127.0.0.1:$FRESHET_HTTP_PORT" >>"$FRESHET_LOG" 2>&1 &
FRESHET_PID=$!
if wait_ready "$FRESHET_PORT" 120 "$FRESHET_PID"; then
  t0=$(date +%s%N)
  kill -s TERM "$FRESHET_PID"
  for _ in $(seq 1 200); do kill -0 "$FRESHET_PID" 2>/dev/null || break; sleep 0.05; done
  term_ms=$((($(date +%s%N) - t0) / 1000000))
  echo "     SIGTERM during the restart's hydration: stopped in ${term_ms} ms"
  ((term_ms < 5000)) || fail "SIGTERM during the restart's hydration took ${term_ms} ms"
  wait "$FRESHET_PID" 2>/dev/null
else
  fail "the second restart did not come up"
fi
stop_freshet
if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
