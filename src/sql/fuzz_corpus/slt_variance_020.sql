SELECT variance(x), stddev(x) FROM (VALUES (1e10::float8), (1e10 + 1), (1e10 + 2)) v(x)
