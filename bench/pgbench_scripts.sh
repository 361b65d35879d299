# Sourced by the write benchmarks (concurrency.sh, bulk_cpu.sh, table_growth.sh): the pgbench
# script they share, so that every one of them measures the same statement.

# bulk_insert_script TABLE ROWS FILE: a pgbench script of one INSERT of ROWS literal rows
# (id bigint, client int, payload text) into TABLE. The ids are computed by pgbench (\set), so
# the server sees literals, as from a loader; they come from a random base per transaction
# (pgbench's transaction number is not a variable, and bases from the client's seed would
# repeat).
bulk_insert_script() {
  awk -v n="$2" -v table="$1" 'BEGIN {
    print "\\set base random(1, 9000000000000000)"
    for (i = 1; i <= n; i++) printf "\\set r%d :base * 1000 + %d\n", i, i
    printf "INSERT INTO %s VALUES ", table
    for (i = 1; i <= n; i++) printf "%s(:r%d, :client_id, '\''payload-abcdefghijklmnop'\'')", (i > 1 ? ", " : ""), i
    print ";"
  }' >"$3"
}
