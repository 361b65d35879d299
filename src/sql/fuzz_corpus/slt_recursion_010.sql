WITH MUTUALLY RECURSIVE evens (n int) AS (VALUES (0) UNION ALL SELECT n + 1 FROM odds WHERE n < 5),
  odds (n int) AS (SELECT n + 1 FROM evens), both (n int) AS (SELECT * FROM evens UNION ALL SELECT * FROM odds)
SELECT sum(n) FROM both
