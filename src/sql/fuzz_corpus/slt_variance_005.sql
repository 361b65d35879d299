SELECT g, variance(b), var_pop(b), stddev(b), stddev_pop(b) FROM vt GROUP BY g ORDER BY g
