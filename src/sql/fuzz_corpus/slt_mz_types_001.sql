SELECT pg_typeof($1)
