SELECT var_pop(x) FILTER (WHERE x > 1), stddev_samp(DISTINCT x) FROM (VALUES (1), (2), (2), (4)) v(x)
