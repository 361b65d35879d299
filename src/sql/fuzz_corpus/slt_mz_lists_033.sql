SELECT (list_cat(LIST[1, 2], LIST[3, 4]))::text
