SELECT (list[list[list['"']]])::text
