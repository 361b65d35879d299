SELECT id, key, value FROM jd, jsonb_each(jd.j) ORDER BY id, key
