CREATE VIEW jd_mv AS SELECT k, count(*) AS n FROM jd, jsonb_object_keys(j) k GROUP BY k
