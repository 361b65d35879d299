SELECT g, variance(n), var_pop(n), stddev(n), stddev_pop(n) FROM vt GROUP BY g ORDER BY g
