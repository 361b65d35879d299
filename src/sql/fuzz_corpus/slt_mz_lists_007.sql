SELECT (LIST[1, null] :: INT LIST)::text
