SELECT schemaname, indexname FROM pg_indexes WHERE indexname = 'sc_v_idx'
