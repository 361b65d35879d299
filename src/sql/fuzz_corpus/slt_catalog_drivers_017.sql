SELECT column_name, column_default FROM information_schema.columns WHERE table_name = 'cd_t' AND column_default IS NOT NULL ORDER BY ordinal_position
