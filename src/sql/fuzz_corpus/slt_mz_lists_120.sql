SELECT list_remove(LIST[[1,2],[1],[1,2,3], LIST[1]], LIST[1])::text
