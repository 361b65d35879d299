SELECT (LIST [1, 2, 3][2:3])::text
