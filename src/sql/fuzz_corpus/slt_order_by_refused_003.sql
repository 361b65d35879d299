SELECT row_number() OVER (ORDER BY a) FROM (VALUES (ARRAY[10])) t(a)
