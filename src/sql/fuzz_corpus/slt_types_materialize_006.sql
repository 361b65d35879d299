SELECT to_jsonb(c), to_jsonb(v), jsonb_build_object('c', c) FROM jsonb_chars
