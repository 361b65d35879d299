SELECT a::text, count(*) FROM (VALUES (ARRAY[1, 2]), (ARRAY[1, 2]), (ARRAY[3])) t(a) GROUP BY a ORDER BY 1
