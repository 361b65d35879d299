SELECT DISTINCT ON (h) h, count(*) FROM dn GROUP BY h, g ORDER BY h, count(*) DESC, g
