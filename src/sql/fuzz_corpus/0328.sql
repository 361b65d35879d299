SELECT g, array_agg(a) FILTER (WHERE a IS NOT NULL), array_agg(a ORDER BY a DESC) FILTER (WHERE g = 1),
       count(*) FILTER (WHERE a > 1)
FROM i10_fa GROUP BY g ORDER BY g