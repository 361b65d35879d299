SELECT list_remove(LIST[1.0, 2.50, 1], 1)::text
