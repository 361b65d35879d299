SELECT list_agg(ARRAY[1])::text
