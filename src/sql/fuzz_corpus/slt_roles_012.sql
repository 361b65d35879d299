SELECT relacl::text FROM pg_class WHERE relname = 'roles_t'
