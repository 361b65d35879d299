SELECT pg_typeof(1::int2 || LIST[2::int8])
