SELECT jsonb_build_object('k', 2 + 3, 'v', 'it''s')::text
