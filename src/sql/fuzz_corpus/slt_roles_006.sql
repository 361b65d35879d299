SELECT rolname FROM pg_roles WHERE rolname LIKE 'r\_%' ORDER BY 1
