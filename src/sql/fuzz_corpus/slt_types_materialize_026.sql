SELECT 0.5::numeric(39,39)
