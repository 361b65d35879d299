CREATE MATERIALIZED VIEW var_mv1 AS SELECT g, variance(n), stddev_pop(n), var_samp(i), stddev(f) FROM vt GROUP BY g
