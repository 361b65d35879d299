SELECT jsonb_object_agg(k, x ORDER BY k, x) FILTER (WHERE k IS NOT NULL), jsonb_agg(v ORDER BY v) FILTER (WHERE v > 1) FROM ja
