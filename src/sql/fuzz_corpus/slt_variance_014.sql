SELECT variance(x), var_pop(x) FROM (VALUES ('NaN'::float8)) v(x)
