SELECT 'pg_catalog.array_in'::regproc, 'int4in'::regproc, 'pg_catalog.array_in'::regproc::oid
