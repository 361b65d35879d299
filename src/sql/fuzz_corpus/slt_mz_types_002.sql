SELECT pg_typeof(1.0)
