SELECT pg_typeof('{1,2,3}'::int[]::int list);
