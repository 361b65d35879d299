SELECT table_schema FROM information_schema.tables WHERE table_name = 't' AND table_schema LIKE 'sc_r%'
