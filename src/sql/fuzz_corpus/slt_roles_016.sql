SELECT * FROM roles_t ORDER BY id
