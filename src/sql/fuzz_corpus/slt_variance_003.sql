CREATE VIEW var_mv2 AS SELECT g, variance(n), var_pop(n), stddev_pop(n) FROM vt GROUP BY g
