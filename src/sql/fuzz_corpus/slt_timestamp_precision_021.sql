SELECT '23:59:60.5'::time
