SELECT has_table_privilege('r_alice', 'roles_owned', 'DELETE') AND has_table_privilege('r_alice', 'roles_t', 'TRUNCATE')
