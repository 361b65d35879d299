CREATE VIEW roles_v AS SELECT id FROM roles_t
