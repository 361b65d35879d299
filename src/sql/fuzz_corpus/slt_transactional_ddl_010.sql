SELECT * FROM txddl_b
