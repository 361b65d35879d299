SELECT a, generate_series(1, b), jsonb_agg(c ORDER BY c) OVER (PARTITION BY a) FROM t1
