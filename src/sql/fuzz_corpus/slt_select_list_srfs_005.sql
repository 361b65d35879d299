SELECT jsonb_object_keys('{"a":1,"bb":2,"c":3}') ORDER BY 1
