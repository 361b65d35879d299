SELECT (list_agg(a) FILTER (WHERE a IS NULL))::text FROM la_t1
