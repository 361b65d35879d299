SELECT DISTINCT ON (g, h) g, h, v FROM dn ORDER BY h, g, v
