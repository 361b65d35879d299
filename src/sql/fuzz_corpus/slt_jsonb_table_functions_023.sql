SELECT g, jsonb_object_agg(k, v ORDER BY v) FROM ja WHERE k IS NOT NULL GROUP BY g ORDER BY g
