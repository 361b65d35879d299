SELECT jsonb_build_object('a', 1, null, 2)
