SELECT '2024-01-01 10:00:00bc'::timestamptz
