SELECT pg_typeof('{{1}}'::int4 list list)
