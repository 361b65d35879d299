SELECT pg_typeof(s), pg_typeof(d), pg_typeof(b) FROM mz_names
