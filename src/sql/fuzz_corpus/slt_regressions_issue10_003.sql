SELECT '3 days'::interval::interval hour, CAST('2 years 3 months' AS interval year)
