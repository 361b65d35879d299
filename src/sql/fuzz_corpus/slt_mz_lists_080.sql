SELECT (LIST[1] || NULL)::text
