# Deterministic data for bench/analytics.sh: the same SQL text goes to both engines.
# Usage: awk -v rows=1000000 -v batch=1000 -f gen_data.awk > data.sql
function day_to_date(n,   m, y, md) {  # n in [0, 365]: a day of 2024 (a leap year)
  split("31 29 31 30 31 30 31 31 30 31 30 31", md, " ")
  m = 1
  while (n >= md[m]) { n -= md[m]; m++ }
  return sprintf("2024-%02d-%02d", m, n + 1)
}
BEGIN {
  if (rows == "") rows = 1000000
  if (batch == "") batch = 1000
  ncust = 10000; nprod = 1000
  split("north south east west central", regions, " ")
  split("tools garden kitchen toys books sports music office", cats, " ")
  print "CREATE TABLE customers (id int PRIMARY KEY, name text, region text, signup date);"
  print "CREATE TABLE products (id int PRIMARY KEY, name text, category text, list_price numeric(10,2));"
  print "CREATE TABLE sales (id bigint PRIMARY KEY, customer_id int, product_id int, qty int, price numeric(10,2), sold_at date);"
  for (i = 1; i <= ncust; i++) {
    if ((i - 1) % batch == 0) printf "INSERT INTO customers VALUES "
    else printf ","
    printf "(%d,'customer %d','%s','%s')", i, i, regions[(i * 7) % 5 + 1], day_to_date((i * 13) % 366)
    if (i % batch == 0 || i == ncust) print ";"
  }
  for (i = 1; i <= nprod; i++) {
    if ((i - 1) % batch == 0) printf "INSERT INTO products VALUES "
    else printf ","
    printf "(%d,'product %d','%s',%d.%02d)", i, i, cats[(i * 3) % 8 + 1], (i * 37) % 500 + 1, (i * 11) % 100
    if (i % batch == 0 || i == nprod) print ";"
  }
  for (i = 1; i <= rows; i++) {
    if ((i - 1) % batch == 0) printf "INSERT INTO sales VALUES "
    else printf ","
    c = (i * 7919) % ncust + 1
    p = (i * 104729 + int(i / 7)) % nprod + 1
    printf "(%d,%d,%d,%d,%d.%02d,'%s')", i, c, p, i % 10 + 1, (p * 37) % 500 + 1, (i * 7) % 100, day_to_date((i * 31 + int(i / 1000)) % 366)
    if (i % batch == 0 || i == rows) print ";"
  }
}
