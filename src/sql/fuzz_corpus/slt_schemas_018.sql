SELECT count(*) FROM pg_namespace WHERE nspname = 'sc_a'
