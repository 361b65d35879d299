SELECT count(*) FROM pg_class WHERE relname = 'txddl_d'
