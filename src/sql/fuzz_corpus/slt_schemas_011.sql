SELECT nspname FROM pg_namespace WHERE nspname IN ('public', 'sc_a', 'sc_b')
