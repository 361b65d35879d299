SELECT * FROM jsonb_object_keys('{"a":1,"bb":"x"}') k ORDER BY k
