SELECT relname FROM pg_class WHERE relname LIKE 'cd_t%' AND relkind = ANY(ARRAY['r','i'])
