SELECT jsonb_strip_nulls('[null, 1]'), jsonb_strip_nulls('null'), jsonb_strip_nulls(NULL)
