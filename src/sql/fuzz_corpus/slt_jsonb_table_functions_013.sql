SELECT * FROM jsonb_array_elements('{"a":1}')
