SELECT (k.keys).x, (k.keys).n FROM (SELECT information_schema._pg_expandarray(i.indkey) AS keys FROM pg_index i WHERE i.indrelid = 'cd_t'::regclass AND NOT i.indisprimary) k
