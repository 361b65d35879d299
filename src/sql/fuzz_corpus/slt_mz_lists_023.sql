SELECT (LIST [1, 2, 3][2:3][1:1])::text
