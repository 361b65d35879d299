SELECT l::text, count(*) FROM (SELECT LIST[g % 2] AS l FROM items) AS q GROUP BY l
