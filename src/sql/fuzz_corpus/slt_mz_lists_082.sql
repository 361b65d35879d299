SELECT (LIST[1] || '{2}')::text
