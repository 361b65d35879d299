SELECT g, variance(s), stddev_pop(s) FROM vt GROUP BY g ORDER BY g
