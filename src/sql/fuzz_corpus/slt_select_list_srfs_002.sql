SELECT id, generate_series(1, n) AS g FROM sg ORDER BY id, g
