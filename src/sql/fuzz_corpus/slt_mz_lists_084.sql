SELECT pg_typeof(LIST[1::int8] || LIST[2::int2])
