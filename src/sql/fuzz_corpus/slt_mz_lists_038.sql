SELECT (list_prepend(0, LIST[1, 2]))::text
