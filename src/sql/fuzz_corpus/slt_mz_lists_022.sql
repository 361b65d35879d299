SELECT (LIST [1, 2, 3][100:])::text
