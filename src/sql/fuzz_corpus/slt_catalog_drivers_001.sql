SELECT 'jsonb'::regtype, 'integer'::regtype, 'pg_catalog.int8'::regtype, 'character varying'::regtype
