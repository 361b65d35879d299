SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'sc_b'
