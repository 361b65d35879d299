SELECT list_remove(LIST[1,NULL::INT,2,3,NULL::INT], NULL::INT)::text
