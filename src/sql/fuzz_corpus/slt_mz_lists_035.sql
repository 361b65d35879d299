SELECT (list_cat(NULL, LIST[1]))::text
