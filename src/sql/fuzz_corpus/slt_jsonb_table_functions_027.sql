SELECT g, jsonb_agg(v) OVER (PARTITION BY g ORDER BY v) FROM ja ORDER BY g, v
