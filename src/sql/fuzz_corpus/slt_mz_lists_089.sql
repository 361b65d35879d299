SELECT pg_typeof(list_cat(LIST[1::int2], LIST[1::int8]))
