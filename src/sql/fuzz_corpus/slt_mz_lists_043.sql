SELECT (LIST[1] || LIST[2, 3])::text, (LIST[1] || 2)::text, (0 || LIST[1])::text
