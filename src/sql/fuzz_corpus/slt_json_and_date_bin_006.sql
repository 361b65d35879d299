SELECT '{"a":1}'::jsonb - 0
