SELECT jsonb_object_agg(a, b ORDER BY a) FILTER (WHERE b > 0), jsonb_agg(c), date_bin('5 minutes', now()::timestamp, TIMESTAMP '2000-01-01') FROM t1
