SELECT typname, typinput, typinput = 'pg_catalog.array_in'::regproc FROM pg_type WHERE typname IN ('_int4', 'int4', 'jsonb') ORDER BY typname
