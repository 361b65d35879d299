SELECT g, sum(a) FROM wq GROUP BY g QUALIFY rank() OVER w = 1 WINDOW w AS (ORDER BY sum(a) DESC)
