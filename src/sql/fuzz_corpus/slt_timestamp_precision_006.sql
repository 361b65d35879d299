SELECT date '2024-01-01'::timestamptz(0)
