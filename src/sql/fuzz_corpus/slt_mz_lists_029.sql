SELECT (list_append(LIST[1, 2], 3))::text
