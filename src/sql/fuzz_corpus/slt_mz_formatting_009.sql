SELECT '{"b": 1, "a": [1, {"d": null, "c": "x y"}]}'::jsonb
