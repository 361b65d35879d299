SELECT id FROM roles_v ORDER BY id
