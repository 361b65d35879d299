SELECT * FROM txddl_v
