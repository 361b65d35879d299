SELECT array_agg(x ORDER BY a) FROM (VALUES (ARRAY[10], 1)) t(a, x)
