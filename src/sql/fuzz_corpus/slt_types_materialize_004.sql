SELECT to_jsonb('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid), to_jsonb(1e16::float8), to_jsonb('x'::varchar), to_jsonb('abc'::text), to_jsonb(null::int)
