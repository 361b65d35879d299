SELECT to_jsonb(array[1, null]::int[]), to_jsonb(array['a','b c']::text[]), to_jsonb(array[1.2, .3]::float8[]), to_jsonb(ARRAY[true,false]), to_jsonb(ARRAY[1.50]::numeric[])
