SELECT (list_append(LIST[1], NULL))::text
