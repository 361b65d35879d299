SELECT jsonb_agg(jsonb_build_object('k', k, 'v', v) ORDER BY v NULLS FIRST) FROM ja
