SELECT (LIST[1, null])::text
