SELECT * FROM jd_iv ORDER BY id, key
