SELECT list_agg('a'::char(2))::text
