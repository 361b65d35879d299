SELECT (LIST[1] || LIST[[2], [3]])::text
