SELECT k FROM txddl_a
