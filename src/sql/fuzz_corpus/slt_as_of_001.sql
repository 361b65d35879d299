CREATE VIEW asof_data (a, b) AS VALUES (1, 1), (2, 1), (3, 1), (1, 2)
