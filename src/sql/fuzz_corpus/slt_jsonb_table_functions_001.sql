SELECT * FROM jsonb_each('{"a":1,"b":"x"}'::jsonb)
