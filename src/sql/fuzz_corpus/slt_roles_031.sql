SELECT has_table_privilege('r_in_block', 'roles_t', 'SELECT')
