SELECT 'NaN'::numeric > 9e38;
