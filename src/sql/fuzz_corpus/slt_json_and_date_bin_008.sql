SELECT '{"a":1}'::jsonb - NULL::text
