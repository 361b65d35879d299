SELECT '23:59:60'::time
