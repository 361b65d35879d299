SELECT variance(x), stddev(x), var_pop(x), stddev_pop(x) FROM (VALUES ('NaN'::numeric), (1)) v(x)
