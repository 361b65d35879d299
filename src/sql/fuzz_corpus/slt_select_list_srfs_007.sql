SELECT generate_series(1, 5) AS g ORDER BY g DESC LIMIT 2
