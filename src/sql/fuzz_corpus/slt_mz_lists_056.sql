SELECT pg_typeof(list_agg(x)) FROM (VALUES (1), (2)) AS t (x)
