#!/usr/bin/env bash
# psql's describe commands (\dt \d \d t \d+ t \dv \di \l \dn \df \du \x) and its
# tab-completion queries against freshet's pg_catalog: each must succeed and show what
# PostgreSQL 15 shows for the same objects (owner names aside). Run with E2E_TARGET=postgres
# to check the expectations against PostgreSQL itself.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
NAME=psql_catalog
start_freshet || { e2e_fail $NAME "server did not start"; exit 1; }

fails=0
# expect DESCRIPTION PATTERN PSQL_ARGS... : psql (stdout+stderr) must succeed and match PATTERN.
expect() {
  local what=$1 pattern=$2; shift 2
  local out rc
  out=$(psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U freshet -d freshet "$@" 2>&1); rc=$?
  if [[ $rc -eq 0 ]] && grep -Eq -- "$pattern" <<<"$out"; then
    echo "ok   $what"
  else
    echo "FAIL $what: wanted /$pattern/ (rc 0), got rc $rc:"; sed 's/^/     /' <<<"$out" | head -20
    fails=$((fails + 1))
  fi
}

expect "setup" "CREATE INDEX" -c "CREATE TABLE t (a int PRIMARY KEY, b text NOT NULL DEFAULT 'x', c numeric(10,2))" \
  -c "CREATE VIEW v AS SELECT a, b FROM t" -c "CREATE INDEX t_c_idx ON t (c)"

expect "\\dt lists the table" "^ public +\| t +\| table +\|" -c '\dt'
expect "\\dt lists only tables" "\(1 row\)" -c '\dt'
expect "\\d lists the view" "^ public +\| v +\| view +\|" -c '\d'
expect "\\d t: title" 'Table "public\.t"' -c '\d t'
expect "\\d t: a integer not null" "^ a +\| integer +\| +\| not null +\|" -c '\d t'
expect "\\d t: b text not null default 'x'" "^ b +\| text +\| +\| not null +\| '?x'?" -c '\d t'
expect "\\d t: c numeric(10,2) nullable" "^ c +\| numeric\(10,2\) +\| +\| +\|" -c '\d t'
expect "\\d t: primary key index" '"t_pkey" PRIMARY KEY, btree \(a\)' -c '\d t'
expect "\\d t: index on c" '"t_c_idx" btree \(c\)' -c '\d t'
expect "\\d+ t: storage column" "^ b +\| text +\| +\| not null +\| '?x'?.*\| extended" -c '\d+ t'
expect "\\dv lists the view" "^ public +\| v +\| view +\|" -c '\dv'
expect "\\d v: columns" "^ b +\| text +\|" -c '\d v'
expect "\\d+ v: definition" "View definition:" -c '\d+ v'
expect "\\di lists both indexes" "^ public +\| t_pkey +\| index +\| [a-z_]+ +\| t$" -c '\di'
expect "\\di lists the created index" "^ public +\| t_c_idx +\| index +\| [a-z_]+ +\| t$" -c '\di'
expect "\\d t_pkey" "primary key, btree, for table \"public\.t\"" -c '\d t_pkey'
expect "\\d t_c_idx" "^ c +\| numeric\(10,2\) +\| yes +\| c$" -c '\d t_c_idx'
expect "\\l lists the database" "^ *freshet +\| [a-z_]+ +\| UTF8" -c '\l'
expect "\\dn lists public" "^ public +\|" -c '\dn'
expect "\\df succeeds" "List of functions" -c '\df'
expect "\\du lists the superuser" "^ freshet +\| Superuser" -c '\du'
expect "\\x expanded output" "^Name +\| t$" -c '\x' -c '\dt'

# Tab completion (psql 15's tab-complete.c): table names, then column names of a table.
expect "tab completion: tables" "^t$" -At -c "SELECT pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c
  WHERE c.relkind IN ('r', 'p') AND substring(pg_catalog.quote_ident(c.relname),1,0)=''
    AND pg_catalog.pg_table_is_visible(c.oid)
    AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
  UNION ALL SELECT pg_catalog.quote_ident(n.nspname) || '.' FROM pg_catalog.pg_namespace n
  WHERE substring(pg_catalog.quote_ident(n.nspname) || '.',1,0)='' AND n.nspname NOT LIKE 'pg\\_%'
  LIMIT 1000"
expect "tab completion: columns" "^b$" -At -c "SELECT pg_catalog.quote_ident(attname) FROM pg_catalog.pg_attribute a,
  pg_catalog.pg_class c WHERE c.oid = a.attrelid AND a.attnum > 0 AND NOT a.attisdropped
  AND substring(pg_catalog.quote_ident(attname),1,0)='' AND (pg_catalog.quote_ident(relname)='t'
  OR '\"' || relname || '\"'='t') AND pg_catalog.pg_table_is_visible(c.oid) LIMIT 1000"

# Driver-style catalog queries.
expect "information_schema.columns" "^b\|NO\|text\|'?x'?" -At \
  -c "SELECT column_name, is_nullable, data_type, column_default FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position"
expect "information_schema.table_constraints" "^t_pkey\|PRIMARY KEY$" -At \
  -c "SELECT constraint_name, constraint_type FROM information_schema.table_constraints WHERE table_name = 't'"
expect "information_schema.key_column_usage" "^t_pkey\|a\|1$" -At \
  -c "SELECT constraint_name, column_name, ordinal_position FROM information_schema.key_column_usage WHERE table_name = 't'"
expect "pg_indexes" "CREATE INDEX t_c_idx ON public\.t USING btree \(c\)" -At -c "SELECT indexdef FROM pg_indexes WHERE tablename = 't'"
expect "pg_index.indkey" "^t_pkey\|1$" -At \
  -c "SELECT c.relname, i.indkey FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indisprimary"
expect "pg_constraint" "^p\|\{1\}\|PRIMARY KEY \(a\)$" -At \
  -c "SELECT contype, conkey, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 't_pkey'"
expect "pg_attrdef" "^b\|'x'" -At -c "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
expect "pg_settings" "^UTF8$" -At -c "SELECT setting FROM pg_settings WHERE name = 'server_encoding'"
expect "pg_size_pretty" "^0 bytes\|10 kB$" -At -c "SELECT pg_size_pretty(pg_relation_size('t'::regclass)), pg_size_pretty(10240::bigint)"

# Every pg_catalog / information_schema relation can be read in full.
for rel in $(psql -X -At -h 127.0.0.1 -p "$PGPORT" -U freshet -d freshet -c \
    "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('pg_catalog', 'information_schema') AND c.relname IN ('pg_class', 'pg_attribute', 'pg_type',
     'pg_namespace', 'pg_index', 'pg_constraint', 'pg_attrdef', 'pg_roles', 'pg_proc', 'pg_rewrite', 'pg_views',
     'pg_tables', 'pg_indexes', 'pg_settings', 'pg_collation', 'pg_database', 'pg_am', 'tables', 'columns',
     'schemata', 'views', 'table_constraints', 'key_column_usage') ORDER BY 1"); do
  expect "SELECT * FROM $rel" "\([0-9]+ rows?\)" -c "SELECT * FROM $rel"
done

freshet_alive || { echo "FAIL freshet exited"; fails=$((fails + 1)); }
stop_freshet
if ((fails == 0)); then e2e_pass $NAME; else e2e_fail $NAME "$fails check(s) failed"; exit 1; fi
