SELECT (list_agg(a ORDER BY a) FILTER (WHERE a IS NOT NULL))::text FROM la_t1
