SELECT 1.7500::numeric, 100::numeric, 2.5::numeric
