SELECT (list_length_max((LIST[NULL]::INT LIST LIST), 2))::text
