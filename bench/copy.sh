#!/usr/bin/env bash
# COPY FROM STDIN load rate: the same ROWS-row file (id int primary key, name text, amount
# numeric(12,2), at timestamptz) loaded with psql's \copy into PostgreSQL 15 and into Freshet,
# in text, csv and binary (the binary file is PostgreSQL's own COPY TO output), and COPY TO
# STDOUT back out. Prints seconds and rows/s per engine and format, and the CPU seconds the
# server spent on the load (Freshet's process; PostgreSQL's backend of the loading session),
# which a busy shared machine distorts much less than wall time.
#   ROWS (1000000), FORMATS ("text csv binary"), TARGETS ("postgres freshet"), FRESHET_BIN
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../test/e2e/lib.sh"
ROWS=${ROWS:-1000000}
FORMATS=${FORMATS:-text csv binary}
TARGETS=${TARGETS:-postgres freshet}
WORK=$(mktemp -d /tmp/freshet-bench-copy.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"; stop_freshet; stop_postgres' EXIT

awk -v n="$ROWS" 'BEGIN { for (i = 1; i <= n; i++)
  printf "%d\tcustomer %d\t%d.%02d\t2024-%02d-%02d %02d:%02d:%02d+00\n", i, i % 10007, i % 100000, i % 100,
         1 + i % 12, 1 + i % 28, i % 24, i % 60, (i * 7) % 60 }' >"$WORK/data.text"
awk -F'\t' 'BEGIN { OFS = "," } { $2 = "\"" $2 "\""; print }' "$WORK/data.text" >"$WORK/data.csv"
echo "rows: $ROWS ($(du -h "$WORK/data.text" | cut -f1) as text)"

start_postgres || exit 1
psql_pg() { psql -X -q -h 127.0.0.1 -p "$PG_REF_PORT" -U freshet -d freshet "$@"; }
psql_pg -c "CREATE TABLE c (id int PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)"
psql_pg -c "\\copy c FROM '$WORK/data.text'"
psql_pg -c "\\copy c TO '$WORK/data.binary' WITH (FORMAT binary)"
psql_pg -c "DROP TABLE c"
if [[ " $TARGETS " != *" postgres "* ]]; then stop_postgres; fi
if [[ " $TARGETS " == *" freshet "* ]]; then start_freshet || exit 1; fi

now() { date +%s.%N; }
cpu_of() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
printf '%-10s %-7s %10s %12s %12s %14s\n' engine format seconds rows/s "server CPU s" "rows/CPU-s"
for target in $TARGETS; do
  port=$PG_REF_PORT; [[ $target == freshet ]] && port=$FRESHET_PORT
  for fmt in $FORMATS; do
    opts="FORMAT $fmt"
    psql -X -q -h 127.0.0.1 -p "$port" -U freshet -d freshet -c "DROP TABLE IF EXISTS c" 2>/dev/null
    psql -X -q -h 127.0.0.1 -p "$port" -U freshet -d freshet \
      -c "CREATE TABLE c (id int PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)"
    t0=$(now)
    if [[ $target == freshet ]]; then
      c0=$(cpu_of "$FRESHET_PID")
      out=$(psql -X -h 127.0.0.1 -p "$port" -U freshet -d freshet -c "\\copy c FROM '$WORK/data.$fmt' WITH ($opts)" 2>&1)
      c1=$(cpu_of "$FRESHET_PID")
    else
      # The backend's CPU, read from inside the session before and after (its pid via \setenv).
      res=$(psql -X -q -h 127.0.0.1 -p "$port" -U freshet -d freshet 2>&1 <<SQL
SELECT pg_backend_pid() AS pid \\gset
\\setenv PID :pid
\\! awk '{ printf "cpu %.2f\\n", (\$14 + \$15) / 100 }' /proc/\$PID/stat
\\copy c FROM '$WORK/data.$fmt' WITH ($opts)
\\! awk '{ printf "cpu %.2f\\n", (\$14 + \$15) / 100 }' /proc/\$PID/stat
SQL
)
      c0=$(grep '^cpu ' <<<"$res" | head -1 | cut -d' ' -f2); c1=$(grep '^cpu ' <<<"$res" | tail -1 | cut -d' ' -f2)
      out=$(grep -v '^cpu ' <<<"$res")
      [[ -z "$out" ]] && out="COPY $ROWS"  # -q: the tag is not printed
    fi
    t1=$(now)
    [[ "$out" == "COPY $ROWS" ]] || { echo "$target $fmt: $out"; continue; }
    awk -v e="$target" -v f="$fmt" -v a="$t0" -v b="$t1" -v n="$ROWS" -v c0="$c0" -v c1="$c1" \
      'BEGIN { c = c1 - c0; printf "%-10s %-7s %10.2f %12.0f %12.2f %14.0f\n", e, f, b - a, n / (b - a), c, (c > 0 ? n / c : 0) }'
  done
  t0=$(now)
  psql -X -q -h 127.0.0.1 -p "$port" -U freshet -d freshet -c "\\copy c TO '$WORK/out.text'"
  t1=$(now)
  awk -v e="$target" -v a="$t0" -v b="$t1" -v n="$ROWS" \
    'BEGIN { printf "%-10s %-7s %10.2f %12.0f\n", e, "TO text", b - a, n / (b - a) }'
done
