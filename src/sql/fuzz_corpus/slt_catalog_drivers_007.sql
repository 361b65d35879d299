SELECT c.relname, i.indkey::text, i.indkey[0], i.indoption::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'cd_t'::regclass ORDER BY 1
