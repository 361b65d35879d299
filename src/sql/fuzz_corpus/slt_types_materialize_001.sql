SELECT to_jsonb(123::INT), to_jsonb('\x0001'::BYTEA), to_jsonb(true), to_jsonb(1.234::float8), to_jsonb('NaN'::numeric), to_jsonb('Infinity'::float8)
