SELECT g, variance(r), stddev_pop(r), pg_typeof(variance(r)) FROM vt GROUP BY g ORDER BY g
