SELECT '1.2e-40'::numeric
