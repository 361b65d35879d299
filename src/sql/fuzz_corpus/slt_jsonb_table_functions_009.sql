SELECT id, e FROM jd, jsonb_array_elements_text(j -> 'd') e ORDER BY id, e
