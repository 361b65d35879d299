SELECT (list_append(LIST[[1], [2]], LIST[3]))::text
