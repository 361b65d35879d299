SELECT (list['{1}'])::text
