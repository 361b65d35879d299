SELECT (LIST[null])::text
