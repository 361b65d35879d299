SELECT * FROM jsonb_each(1)
