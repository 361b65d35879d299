SELECT '{"a":1}'::JSONB #>> '{a}'::STRING[]
