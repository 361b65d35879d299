SELECT 1::numeric(1.5)
