SELECT generate_series(1, 3)
