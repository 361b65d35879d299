SELECT 0.2::numeric(40,1)
