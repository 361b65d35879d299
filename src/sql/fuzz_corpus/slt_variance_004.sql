SELECT g, variance(i), var_samp(i), var_pop(i), stddev(i), stddev_samp(i), stddev_pop(i) FROM vt GROUP BY g ORDER BY g
