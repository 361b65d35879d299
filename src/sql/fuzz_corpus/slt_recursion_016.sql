SELECT b, (WITH MUTUALLY RECURSIVE n (x int) AS (SELECT 1 UNION SELECT x + 1 FROM n WHERE x < b) SELECT count(*) FROM n) FROM generate_series(1, 3) AS g (b)
