SELECT * FROM jsonb_array_elements('[1,"a",null,[2]]') WITH ORDINALITY ORDER BY ordinality
