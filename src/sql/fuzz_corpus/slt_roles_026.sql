SELECT has_table_privilege('r_robert', 'roles_t', 'SELECT'), has_table_privilege('r_robert', 'roles_t', 'UPDATE')
