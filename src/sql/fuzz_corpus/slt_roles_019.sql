SELECT has_table_privilege('r_robert', 'roles_t', 'SELECT')
