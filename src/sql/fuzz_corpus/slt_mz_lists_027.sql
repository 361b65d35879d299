SELECT (LIST[1, 2, 3][-100:99])::text
