SELECT pg_typeof(LIST[1::int2] || 2::int8)
