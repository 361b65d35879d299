SELECT rolcreatedb, rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'r_bob'
