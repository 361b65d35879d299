SELECT list_remove(LIST[1,1,1], 1)::text
