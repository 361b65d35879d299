CREATE VIEW i10_agg_iv AS SELECT 60 / count(*) AS q, array_agg(a ORDER BY a) FILTER (WHERE a IS NOT NULL) AS f FROM i10_fa
