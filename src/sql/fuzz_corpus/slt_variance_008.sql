SELECT g, variance(f), var_pop(f), stddev(f), stddev_pop(f) FROM vt GROUP BY g ORDER BY g
