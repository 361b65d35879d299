SELECT * FROM txddl_bv
