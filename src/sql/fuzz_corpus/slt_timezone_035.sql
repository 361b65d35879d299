SELECT timezone(interval '1 day', timestamp '2024-01-01 12:00')
