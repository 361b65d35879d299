CREATE VIEW txddl_v AS SELECT id, upper(name) AS n FROM txddl_a
