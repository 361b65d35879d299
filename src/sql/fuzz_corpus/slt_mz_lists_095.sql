SELECT DISTINCT pg_typeof(a) FROM (VALUES ('{1,2}'::int list), ('{3}'::int8 list)) v(a)
