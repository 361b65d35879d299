SELECT to_jsonb('a'::char(10))
