SELECT r::text, count(*) FROM sessions GROUP BY r ORDER BY 1
