SELECT '"x"'::jsonb - 0
