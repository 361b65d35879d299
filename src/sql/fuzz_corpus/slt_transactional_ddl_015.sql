SELECT n FROM txddl_mv
