SELECT DISTINCT ON (g, h) g, id FROM dn ORDER BY g, id
