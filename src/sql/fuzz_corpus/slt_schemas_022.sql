SELECT datname FROM pg_database WHERE datname = 'sc_db'
