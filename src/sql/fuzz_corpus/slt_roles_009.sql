SELECT pg_has_role('r_nobody', 'r_readers', 'MEMBER')
