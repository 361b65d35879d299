SELECT x, var_samp(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), stddev_pop(x) OVER () FROM (VALUES (1), (2), (4), (8)) v(x) ORDER BY x
