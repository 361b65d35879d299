SELECT pg_typeof(6::int2 & 3::int2)
