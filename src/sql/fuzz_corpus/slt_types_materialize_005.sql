SELECT to_jsonb('0044-03-15 10:00 BC'::timestamp), to_jsonb('0044-03-15 10:00 BC'::timestamptz), to_jsonb('infinity'::timestamp), to_jsonb('0044-03-15 BC'::date)
