CREATE VIEW txddl_bv AS SELECT x + 1 AS y FROM txddl_b
