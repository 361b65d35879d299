#!/usr/bin/env bash
# Issue 12: nothing a query grows takes the server down. Deeply nested expressions and
# subqueries answer 54001 (statement too complex) or their result, nested scalar subqueries
# plan in linear size, text values over 1 GB answer 54000 (string_agg's too, holding about
# 1 GB, not the 10 GB it was asked for); after each statement the same
# server still answers another client.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=sql_limits
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }
fails=0
tmp=$(mktemp -d /tmp/freshet-sql-limits.XXXXXX)
trap 'rm -rf "$tmp"' RETURN

gen() {  # gen KIND N: a statement nested N deep
  python3 - "$1" "$2" <<'PY'
import sys
k, n = sys.argv[1], int(sys.argv[2])
q = {
  'plus':   lambda: "SELECT " + "+".join(["1"] * n),
  'not':    lambda: "SELECT " + "NOT " * n + "true",
  'union':  lambda: " UNION ALL ".join(["SELECT 1"] * n),
  'rplus':  lambda: "SELECT " + "1+(" * n + "1" + ")" * n,
  'sub':    lambda: "SELECT " + "(SELECT " * n + "1" + ")" * n,
  'concat': lambda: "SELECT " + "||".join(["'a'"] * n),
  'case':   lambda: "SELECT " + "CASE WHEN true THEN " * n + "1" + " END" * n,
}[k]()
print(q + ";")
PY
}

# expect NAME WANT SQLFILE: WANT is a SQLSTATE, or "ok:<value>" for the answer.
expect() {
  local what=$1 want=$2 file=$3 out t0 t1
  t0=$(date +%s%N)
  out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -f "$file" 2>&1)
  t1=$(date +%s%N)
  local ms=$(((t1 - t0) / 1000000))
  if [[ $want == ok:* ]]; then
    if [[ "$out" != "${want#ok:}" ]]; then echo "  $what: expected ${want#ok:}, got: ${out:0:200}"; fails=$((fails + 1)); fi
  elif ! grep -q "ERROR:  $want" <<<"$out"; then
    echo "  $what: expected SQLSTATE $want, got: ${out:0:200}"; fails=$((fails + 1))
  fi
  if ! freshet_alive; then echo "  $what: the server died"; fails=$((fails + 1)); return; fi
  local ping
  ping=$(psql -X -q -A -t -c "SELECT 41 + 1" 2>&1)
  [[ "$ping" == 42 ]] || { echo "  $what: the server no longer answers: $ping"; fails=$((fails + 1)); }
  echo "  $what: ${ms} ms"
}

run() {  # run NAME WANT KIND N
  gen "$3" "$4" >"$tmp/q.sql"
  expect "$1" "$2" "$tmp/q.sql"
}

# The reported crashes: now answered as PostgreSQL answers them, or 54001 where the nesting
# is deeper than this server's stack allows (never a crash).
run "1+1+...+1 x1,500"       ok:1500 plus 1500
run "NOT x2,000"             ok:t not 2000
run "NOT x8,000"             ok:t not 8000  # the answer (16 MiB thread stacks, src/main.cpp); deeper: 1+1+... x20,000
run "1+(1+(...)) x2,000"     ok:2001 rplus 2000
run "UNION ALL x1,000"       ok:"$(printf '1\n%.0s' $(seq 1000) | head -c -1)" union 1000
run "UNION ALL x8,000"       54001 union 8000
run "'a'||'a'... x3,000"     ok:"$(printf 'a%.0s' $(seq 3000))" concat 3000
run "1+1+...+1 x20,000"      54001 plus 20000
run "1+(1+(...)) x20,000"    42601 rplus 20000  # the grammar refuses it, as PostgreSQL
run "NOT x20,000"            42601 not 20000
# Like PostgreSQL, the grammar itself refuses a CASE nested this deep (bison stack: 42601).
run "CASE nested x2,000"     42601 case 2000
run "CASE nested x300"       ok:1 case 300
run "(SELECT ...) x2,000"    54001 sub 2000
# Shallower nesting still answers.
run "1+1+...+1 x100"         ok:100 plus 100
run "UNION ALL x100"         ok:"$(printf '1\n%.0s' $(seq 100) | head -c -1)" union 100
# Nested scalar subqueries plan in linear size: 15 and 60 deep answer quickly.
for d in 15 60; do
  gen sub $d >"$tmp/q.sql"
  t0=$(date +%s%N)
  run "(SELECT ...) x$d" ok:1 sub $d
  t1=$(date +%s%N)
  (((t1 - t0) / 1000000 < 5000)) || { echo "  (SELECT ...) x$d took $(((t1 - t0) / 1000000)) ms"; fails=$((fails + 1)); }
done
# Nested correlated subqueries plan in linear size too (the rows each level reads twice are
# shared, not copied): 12, 40 and 100 deep answer within a second, as PostgreSQL does.
psql -X -q -c "CREATE TABLE lim_t (a int); INSERT INTO lim_t VALUES (1), (2)" >/dev/null
for d in 12 40 100; do
  q="x.a"; for i in $(seq $d); do q="(SELECT $q)"; done
  echo "SELECT $q FROM lim_t x ORDER BY 1;" >"$tmp/q.sql"
  t0=$(date +%s%N)
  expect "correlated (SELECT ...) x$d" ok:"$(printf '1\n2')" "$tmp/q.sql"
  t1=$(date +%s%N)
  (((t1 - t0) / 1000000 < 5000)) || { echo "  correlated x$d took $(((t1 - t0) / 1000000)) ms"; fails=$((fails + 1)); }
done
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$FRESHET_PID/status" 2>/dev/null || echo 0)
# Values over 1 GB are refused before they are built.
echo "SELECT octet_length(repeat('x', 1000000000) || repeat('x', 1000000000) || repeat('x', 1000000000));" >"$tmp/q.sql"
expect "repeat(1e9) x3 concatenated" 54000 "$tmp/q.sql"
echo "SELECT octet_length(concat(repeat('x', 600000000), repeat('x', 600000000)));" >"$tmp/q.sql"
expect "concat of 1.2 GB" 54000 "$tmp/q.sql"
echo "SELECT octet_length(repeat('x', 1100000000));" >"$tmp/q.sql"
expect "repeat 1.1 GB" 54000 "$tmp/q.sql"
echo "  RSS before the value tests: $((rss_kb / 1024)) MB"
# An aggregate's value is a value too: string_agg over 10 GB answers 54000 once it holds 1 GB
# (it grew until the machine ran out: 16 GB, then std::bad_alloc as XX000).
echo "SELECT octet_length(string_agg(repeat('x', 1000000), '')) FROM generate_series(1, 10000);" >"$tmp/q.sql"
# The peak of the repeat() tests above (a few 1 GB values) is not this one's: reset VmHWM.
[[ "${E2E_TARGET:-freshet}" != postgres ]] && echo 5 >"/proc/$FRESHET_PID/clear_refs" 2>/dev/null
expect "string_agg of 10 GB" 54000 "$tmp/q.sql"
if [[ "${E2E_TARGET:-freshet}" != postgres ]]; then
  hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$FRESHET_PID/status" 2>/dev/null || echo 0)
  echo "  peak RSS after string_agg: $((hwm_kb / 1024)) MB"
  ((hwm_kb < 4 * 1024 * 1024)) || { echo "  string_agg: peak RSS $((hwm_kb / 1024)) MB (over 4 GB)"; fails=$((fails + 1)); }
fi

stop_freshet
if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails checks failed"; exit 1; fi
