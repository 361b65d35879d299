SELECT 1::float(55)
