SELECT list_cat(LIST[1], LIST[[2]])
