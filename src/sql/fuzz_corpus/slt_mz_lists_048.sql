SELECT (LIST[1, 2]::float list)::text
