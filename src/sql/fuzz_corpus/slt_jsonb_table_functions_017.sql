CREATE VIEW jd_iv AS SELECT id, key, value FROM jd, jsonb_each(j)
