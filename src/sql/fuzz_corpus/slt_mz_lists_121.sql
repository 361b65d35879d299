SELECT pg_typeof(list_remove(LIST[1::int2,2,3,2], 2::int8))
