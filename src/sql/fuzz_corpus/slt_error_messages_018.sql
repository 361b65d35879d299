SELECT json_build_object(null, null)
