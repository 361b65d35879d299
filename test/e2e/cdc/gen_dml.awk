# Random upstream DML for the CDC acceptance tests: INSERT/UPDATE/DELETE in multi-statement
# transactions (some rolled back, some failing on a key conflict), primary-key changes.
#   awk -v seed=N -v txns=N -v dialect=postgres|mariadb -v base=0 -f gen_dml.awk | psql ...
# Tables (see cdc_postgres_test.sh / cdc_mariadb_test.sh): customers(id PK), orders(id PK),
# line_items(order_id, line) composite PK. Keys are drawn from small ranges so that updates and
# deletes hit existing rows.
function ri(n) { return int(rand() * n) + 1 }
function money() { return sprintf("%d.%02d", int(rand() * 900), int(rand() * 100)) }
function ts() { return sprintf("'2024-%02d-%02d %02d:%02d:%02d.%03d'", ri(12), ri(28), ri(24) - 1, ri(60) - 1, ri(60) - 1, ri(1000) - 1) }
function str(p) { return sprintf("'%s-%d%s'", p, ri(100000), rand() < 0.1 ? " o''brien \\u00e9" : "") }
function region() { return sprintf("'%s'", regions[ri(5)]) }
function boolv() { return rand() < 0.5 ? "true" : "false" }
function ins_ignore() { return dialect == "postgres" ? "INSERT INTO" : "INSERT IGNORE INTO" }
function on_conflict() { return dialect == "postgres" ? " ON CONFLICT DO NOTHING" : "" }
function customer_row(id) {
  return sprintf("(%d, %s, %s, %s, '2023-%02d-%02d')", id, str("cust"), region(), boolv(), ri(12), ri(28))
}
function order_row(id,   note, extra) {
  note = rand() < 0.2 ? "NULL" : str("note")
  if (dialect == "postgres")
    extra = sprintf(", '{\"k\": %d, \"t\": \"x%d\"}', '%08x-0000-4000-8000-%012x', '\\x%04x', %s", ri(100), ri(9),
                    ri(2000000000), ri(2000000000), ri(65535), rand() < 0.5 ? sprintf("%d.25", ri(1000)) : sprintf("%.6f", rand() * 1000))
  else
    extra = sprintf(", %s, %s", rand() < 0.5 ? sprintf("%d.25", ri(1000)) : sprintf("%.6f", rand() * 1000), ri(3) == 1 ? "NULL" : sprintf("'%s'", rand() < 0.5 ? "new" : "paid"))
  return sprintf("(%d, %d, %s, %d, %s, %s%s)", id, ri(ncust), money(), ri(50), note, ts(), extra)
}
function stmt(   r, id) {
  r = rand()
  if (r < 0.12) return sprintf("%s customers VALUES %s%s", ins_ignore(), customer_row(ri(ncust)), on_conflict())
  if (r < 0.40) return sprintf("%s orders VALUES %s, %s%s", ins_ignore(), order_row(ri(norder)), order_row(ri(norder)), on_conflict())
  if (r < 0.55) return sprintf("%s line_items VALUES (%d, %d, %s, %s, %d)%s", ins_ignore(), ri(norder), ri(6), str("sku"), money(), ri(9), on_conflict())
  if (r < 0.62) return sprintf("UPDATE customers SET region = %s, vip = %s WHERE id = %d", region(), boolv(), ri(ncust))
  if (r < 0.75) return sprintf("UPDATE orders SET amount = %s, qty = qty + 1, note = %s WHERE id = %d", money(), rand() < 0.3 ? "NULL" : str("upd"), ri(norder))
  if (r < 0.79) return sprintf("UPDATE orders SET customer_id = %d WHERE customer_id = %d", ri(ncust), ri(ncust))
  if (r < 0.83) return sprintf("UPDATE line_items SET line = line + 10, qty = qty + 1 WHERE order_id = %d AND line = %d", ri(norder), ri(6))
  if (r < 0.86) { id = ri(ncust); return sprintf("UPDATE customers SET id = %d WHERE id = %d", id + ncust, id) }
  if (r < 0.90) { id = ri(ncust); return sprintf("UPDATE customers SET id = %d WHERE id = %d", id, id + ncust) }
  if (r < 0.95) return sprintf("DELETE FROM orders WHERE id = %d", ri(norder))
  if (r < 0.97) return sprintf("DELETE FROM line_items WHERE order_id = %d", ri(norder))
  return sprintf("DELETE FROM customers WHERE id = %d", ri(ncust))
}
BEGIN {
  srand(seed); split("north south east west central", regions, " ")
  ncust = ncust ? ncust : 150; norder = norder ? norder : 1500
  for (t = 0; t < txns; t++) {
    n = ri(6)
    if (n == 1) { print stmt() ";"; continue }   # autocommit
    print "BEGIN;"
    for (i = 0; i < n; i++) print stmt() ";"
    print (rand() < 0.1 ? "ROLLBACK;" : "COMMIT;")
  }
}
