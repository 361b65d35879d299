SELECT * FROM txddl_c
