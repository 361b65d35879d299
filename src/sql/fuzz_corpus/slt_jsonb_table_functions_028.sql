SELECT jsonb_object_agg(k, v) FROM ja
