SELECT * FROM (VALUES (3), (1), (2)) AS t (a)
