SELECT pg_typeof(creation_time)::text FROM pg_cursors LIMIT 1
