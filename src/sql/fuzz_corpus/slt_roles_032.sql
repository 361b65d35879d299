SELECT count(*) FROM pg_roles WHERE rolname = 'r_in_block'
