SELECT list_remove(NULL::integer list, 1)::text
