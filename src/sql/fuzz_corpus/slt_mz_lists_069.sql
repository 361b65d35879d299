SELECT list_agg('a'::char)::text
