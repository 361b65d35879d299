SELECT * FROM txddl_mv
