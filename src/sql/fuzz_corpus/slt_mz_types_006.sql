SELECT jsonb_typeof(to_jsonb('NaN'::numeric))
