CREATE VIEW ja_iv AS SELECT g, jsonb_agg(v ORDER BY v) AS vs, jsonb_object_agg(coalesce(k, '?'), x ORDER BY k, x) AS kx FROM ja GROUP BY g
