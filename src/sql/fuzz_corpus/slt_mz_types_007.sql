SELECT jsonb_build_array('\x0001'::BYTEA)
