SELECT count(*) FROM (SELECT id FROM roles_t) s
