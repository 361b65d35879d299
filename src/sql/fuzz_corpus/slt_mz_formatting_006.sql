SELECT 1.5::float8
