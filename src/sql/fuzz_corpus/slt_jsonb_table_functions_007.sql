SELECT id, k, v FROM jd, jsonb_each_text(j) AS e(k, v) ORDER BY id, k
