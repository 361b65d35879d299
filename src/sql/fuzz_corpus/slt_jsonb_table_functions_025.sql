SELECT jsonb_agg(v) FROM ja WHERE false
