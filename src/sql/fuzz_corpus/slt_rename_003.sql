SELECT tablename FROM pg_indexes WHERE indexname = 'rn_t_a'
