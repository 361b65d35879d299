SELECT * FROM (VALUES (2, 20), (1, 10)) AS t (a, b)
