SELECT * FROM txddl_a
