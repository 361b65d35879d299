SELECT row_number() OVER (), generate_series(1, 2)
