SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'roles_t'
