SELECT variance(x), var_pop(x) FROM (VALUES ('NaN'::numeric)) v(x)
