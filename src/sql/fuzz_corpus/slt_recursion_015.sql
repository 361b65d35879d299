WITH MUTUALLY RECURSIVE foo (a int, b int) AS (
    WITH MUTUALLY RECURSIVE foo (a int, b int) AS (SELECT 1, 2 UNION SELECT c, 5 FROM bar), bar (c int) AS (SELECT a FROM foo)
    SELECT a, c FROM foo, bar),
  bar (a int) AS (SELECT a FROM foo)
SELECT a FROM foo, bar
