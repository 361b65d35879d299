SELECT * FROM jsonb_array_elements('1')
