SELECT * FROM jsonb_object_keys('[1]')
