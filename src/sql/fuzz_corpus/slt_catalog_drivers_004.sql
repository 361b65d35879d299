SELECT 23::regtype, 1007::regtype, 'pg_catalog.trigger'::regtype
