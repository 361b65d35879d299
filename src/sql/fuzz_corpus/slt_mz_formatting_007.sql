SELECT INTERVAL '1 year 2 months 3 days 04:05:06'
