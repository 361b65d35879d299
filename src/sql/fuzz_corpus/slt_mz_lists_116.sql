SELECT list_remove(LIST[1,2,3,2], 2)::text
