SELECT (NULL || LIST[1])::text
