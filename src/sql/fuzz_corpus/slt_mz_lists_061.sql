CREATE MATERIALIZED VIEW item_lists AS
  SELECT g, list_agg(v ORDER BY v) AS vs, LIST[g, g + 1] AS pair, list_length(list_agg(s)) AS n
  FROM items GROUP BY g
