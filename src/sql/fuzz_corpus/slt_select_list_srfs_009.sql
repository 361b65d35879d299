SELECT count(*), generate_series(1, 2)
