SELECT json_build_object('a', 1, 'b', true, 'c', 'x', 'd', NULL, 'e', 1.50)::jsonb::text
