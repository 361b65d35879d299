CREATE MATERIALIZED VIEW asof_valid AS SELECT * FROM (VALUES (1, 10), (1, 2), (2, 13), (3, 1), (0, 10)) v (a, b)
  WHERE mz_now() BETWEEN a AND b
