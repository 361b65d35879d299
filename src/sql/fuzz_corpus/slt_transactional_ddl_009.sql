SELECT y FROM txddl_bv
