SELECT 1::float(0)
