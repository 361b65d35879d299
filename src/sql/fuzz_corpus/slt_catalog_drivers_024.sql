SELECT k.keys, k.keys IS NULL FROM (SELECT information_schema._pg_expandarray(ARRAY[10,20]) AS keys) k
