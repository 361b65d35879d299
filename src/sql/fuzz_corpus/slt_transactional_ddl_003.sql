SELECT id, name FROM txddl_a ORDER BY id
