SELECT to_jsonb(null::int list)
