SELECT * FROM information_schema.table_privileges WHERE table_name = 'roles_t' ORDER BY grantee, privilege_type
