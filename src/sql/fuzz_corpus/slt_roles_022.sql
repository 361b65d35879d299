SELECT tableowner FROM pg_tables WHERE tablename = 'roles_owned'
