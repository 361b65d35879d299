SELECT (CAST('{1.555, 2.125}' AS numeric(10,2) list))::text
