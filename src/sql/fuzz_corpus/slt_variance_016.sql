SELECT variance(x) FROM (VALUES (1), (2)) v(x) WHERE false
