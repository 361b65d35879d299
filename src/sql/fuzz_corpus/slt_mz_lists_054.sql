SELECT to_jsonb(LIST['a', NULL])
