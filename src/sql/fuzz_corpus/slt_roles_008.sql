SELECT pg_has_role('r_alice', 'r_readers', 'MEMBER'), pg_has_role('r_robert', 'r_readers', 'MEMBER'), pg_has_role('r_alice', 'r_readers', 'USAGE')
