SELECT * FROM jsonb_each('{"a":1}') e(a, b, c)
