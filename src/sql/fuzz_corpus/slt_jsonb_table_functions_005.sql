SELECT value, pg_typeof(value) FROM jsonb_array_elements_text('[1,"a",null,[2]]') e
