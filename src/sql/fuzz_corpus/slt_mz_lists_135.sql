SELECT a::text list::text FROM (VALUES (ARRAY['x', NULL]), (ARRAY[]::text[])) v(a)
