SELECT pg_typeof('1.2'::numeric(38,5) || '{2.3}'::numeric(38,0) list)
