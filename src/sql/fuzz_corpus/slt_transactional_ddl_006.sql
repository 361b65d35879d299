SELECT id, n FROM txddl_v ORDER BY id
