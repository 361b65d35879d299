CREATE VIEW db_iv AS SELECT date_bin('15 minutes', ts, TIMESTAMP '2020-01-01') AS bin, count(*) AS n, jsonb_agg(jsonb_strip_nulls(j) - 'k' ORDER BY id) AS js FROM db GROUP BY 1
