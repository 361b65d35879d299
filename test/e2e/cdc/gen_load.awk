# Steady load of the crash test: transactions that each append the next id of a monotonically
# increasing sequence to the insert-only `audit` table and upsert/delete rows of `kv` whose
# value is that sequence number. Every `pace` transactions it sleeps `sleep_s` seconds.
#   awk -v seed=N -v txns=N -v dialect=postgres|mariadb [-v pace=20 -v sleep_s=0.02] -f gen_load.awk
function ri(n) { return int(rand() * n) + 1 }
BEGIN {
  srand(seed); pace = pace ? pace : 20; sleep_s = sleep_s ? sleep_s : 0.02
  for (t = 0; t < txns; t++) {
    print "BEGIN;"
    print "INSERT INTO audit (id, note) SELECT coalesce(max(id), 0) + 1, 'w" seed "' FROM audit;"
    k = ri(500)
    if (dialect == "postgres")
      print "INSERT INTO kv SELECT " k ", max(id), 1 FROM audit ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, n = kv.n + 1;"
    else
      print "INSERT INTO kv SELECT " k ", max(id), 1 FROM audit ON DUPLICATE KEY UPDATE v = VALUES(v), n = n + 1;"
    if (rand() < 0.2) print "DELETE FROM kv WHERE k = " ri(500) ";"
    if (rand() < 0.3) print "INSERT INTO audit (id, note) SELECT max(id) + 1, 'x' FROM audit;"
    print "COMMIT;"
    if (t % pace == pace - 1) print (dialect == "postgres" ? "SELECT pg_sleep(" sleep_s ");" : "DO SLEEP(" sleep_s ");")
  }
}
