SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'r_bob'
