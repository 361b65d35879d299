SELECT has_table_privilege('r_alice', 'roles_t', 'USAGE')
