SELECT json_build_object(null, 1)
