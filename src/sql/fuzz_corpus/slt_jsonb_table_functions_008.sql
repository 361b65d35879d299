SELECT id, count(*) FROM jd, jsonb_object_keys(j) GROUP BY id ORDER BY id
