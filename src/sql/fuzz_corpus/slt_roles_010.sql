SELECT relacl FROM pg_class WHERE relname = 'roles_t'
