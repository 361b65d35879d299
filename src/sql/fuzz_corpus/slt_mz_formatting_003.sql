SELECT '12'::text
