SELECT rolname FROM pg_authid
