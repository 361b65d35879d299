SELECT (LIST[1, null] :: TEXT LIST)::text
