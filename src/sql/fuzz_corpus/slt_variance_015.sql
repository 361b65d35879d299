SELECT variance(x), var_pop(x), stddev(x) FROM (VALUES ('Infinity'::float8), (1)) v(x)
