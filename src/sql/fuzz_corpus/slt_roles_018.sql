SELECT rolname FROM pg_roles WHERE rolname = 'r_alice'
