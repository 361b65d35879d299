SELECT usename FROM pg_user WHERE usename LIKE 'r\_%' ORDER BY 1
