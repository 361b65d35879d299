SELECT generate_series(1, 2), generate_series(1, 3)
