SELECT (information_schema._pg_expandarray(ARRAY[7,8,9])).x, (information_schema._pg_expandarray(ARRAY[7,8,9])).n
