SELECT pg_typeof(LIST[1::int2] || LIST[2::int8])
