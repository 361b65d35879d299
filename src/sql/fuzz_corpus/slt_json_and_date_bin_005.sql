SELECT '1'::jsonb - 'a'
