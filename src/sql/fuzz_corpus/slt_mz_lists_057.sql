SELECT list_agg(LIST[x] ORDER BY x)::text FROM (VALUES (1), (2)) AS t (x)
