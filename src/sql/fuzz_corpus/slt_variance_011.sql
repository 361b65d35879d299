SELECT variance(x), stddev(x), var_pop(x) FROM (VALUES (1.5), (1.5)) v(x)
