CREATE MATERIALIZED VIEW kmv AS SELECT s, count(*) AS n, sum(k) AS total FROM kt GROUP BY s
