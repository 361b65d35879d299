SELECT DISTINCT generate_series(1, n) FROM sg ORDER BY 1
