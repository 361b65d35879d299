SELECT 1.23456::float8, 1.23456::numeric, 2.5::numeric
