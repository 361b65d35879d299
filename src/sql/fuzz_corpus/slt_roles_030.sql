SELECT datacl::text FROM pg_database WHERE datname = 'freshet'
