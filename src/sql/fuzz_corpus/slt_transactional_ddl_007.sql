SELECT id, n FROM txddl_v WHERE id = 3
