CREATE VIEW sg_iv AS SELECT id, generate_series(1, n) AS g, jsonb_array_length(j) AS len FROM sg
