SELECT jsonb_build_object(null, 1)
